"""Rebuild the bundled ``photo`` denoiser from scratch: ``make pretrained``.

1. The training photos: the photographs of Debian's ``mate-backgrounds`` package (GPL-2+,
   each file's licence is in the package's copyright file; fetched with ``apt-get
   download``)), and dead-leaves images generated here (random overlapping discs with
   power-law sizes: Achddou et al., "Synthetic images as a regularity prior for image
   restoration neural networks", 2021). None of the evaluation sets (CBSD68, CC15, SIDD5,
   the bundled demo photos, which are scikit-image's public-domain photographs) is used.
2. The model: ``aestudio train`` with the ``mixed`` noise (Gaussian, Poisson-Gaussian and
   camera noise of every strength, clipped), written to
   ``aestudio/resources/models/photo.aemodel``.

Usage: ``python packaging/pretrained.py [--minutes 30] [--device auto]``. ``--prepare-only``
writes the training set alone and ``--skip-prepare`` trains on the one already written (a
machine that cannot download, a GPU, trains on a copy of it).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "pretrained"
OUT = ROOT / "aestudio" / "resources" / "models" / "photo.aemodel"
DEBIAN_PACKAGE = "mate-backgrounds"
# The photographs of the package (its abstract and desktop files are drawings).
PHOTO_GLOBS = ("usr/share/backgrounds/mate/nature/*.jpg",
               "usr/share/backgrounds/mate/desktop/GreenTraditional.jpg")
DEAD_LEAVES = 200
DEAD_LEAVES_SIDE = 512
MAX_SIDE = 1600  # larger photos are reduced: more scenes per second of training


def fetch_photos(folder: Path) -> list[Path]:
    """Download the Debian package and copy its photographs (reduced) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", DEBIAN_PACKAGE], cwd=tmp, check=True)
        deb = next(Path(tmp).glob(f"{DEBIAN_PACKAGE}_*.deb"))
        tree = Path(tmp) / "tree"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
        copyright_file = tree / "usr/share/doc" / DEBIAN_PACKAGE / "copyright"
        shutil.copy(copyright_file, folder / "COPYRIGHT-mate-backgrounds")
        written = []
        for pattern in PHOTO_GLOBS:
            for source in sorted(tree.glob(pattern)):
                image = Image.open(source).convert("RGB")
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
                target = folder / f"mate-{source.stem}.png"
                image.save(target)
                written.append(target)
    return written


def dead_leaves(side: int, rng: np.random.Generator, palette: np.ndarray) -> Image.Image:
    """One dead-leaves image: discs of radius distributed as r^-3, colours from ``palette``."""
    image = Image.new("RGB", (side, side), tuple(int(v) for v in palette[rng.integers(len(palette))]))
    draw = ImageDraw.Draw(image)
    r_min, r_max = 2.0, side / 3
    # Inverse-CDF sampling of p(r) ~ r^-3 on [r_min, r_max].
    u = rng.random(4000)
    radii = 1 / np.sqrt(1 / r_min**2 - u * (1 / r_min**2 - 1 / r_max**2))
    for radius in radii[np.argsort(-radii)]:  # large first: small ones stay visible
        x, y = rng.uniform(-radius, side + radius, 2)
        colour = palette[rng.integers(len(palette))]
        draw.ellipse([x - radius, y - radius, x + radius, y + radius],
                     fill=tuple(int(v) for v in colour))
    return image


def make_dead_leaves(folder: Path, photos: list[Path], count: int, seed: int = 0) -> None:
    """Write ``count`` dead-leaves images whose colours are drawn from the photos' pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = [np.asarray(Image.open(p).convert("RGB").reduce(8)).reshape(-1, 3) for p in photos]
    palette = np.concatenate(pixels) if pixels else rng.integers(0, 256, (4096, 3))
    for i in range(count):
        image = dead_leaves(DEAD_LEAVES_SIDE, rng, palette)
        # A slight blur, as a lens gives: edges of real photos are never one pixel sharp.
        from PIL import ImageFilter

        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
        image.save(folder / f"dead-leaves-{i:03d}.png")


def prepare(data: Path) -> None:
    """Write the training set into ``data``: the photos (downloaded once) and the
    dead-leaves images (generated again, the same every time)."""
    photos_folder = data / "photos"
    if (photos_folder / "COPYRIGHT-mate-backgrounds").exists():  # downloaded before
        photos = sorted(photos_folder.glob("mate-*.png"))
    else:
        photos = fetch_photos(photos_folder)
    shutil.rmtree(data / "dead-leaves", ignore_errors=True)
    make_dead_leaves(data / "dead-leaves", photos, DEAD_LEAVES)
    print(f"{len(photos)} photos and {DEAD_LEAVES} dead-leaves images in {data}")


def ship(trained: Path, target: Path) -> None:
    """Write the trained model without its optimizer state (a third of the size): the
    bundled file is for denoising and fine-tuning, which starts a fresh optimizer."""
    from aestudio.core.models.modelfile import load_model_file, save_model_file

    loaded = load_model_file(trained)
    meta = loaded.meta
    save_model_file(target, loaded.model, data=meta.get("data"), train=meta.get("train"),
                    training_state=meta.get("training_state"))
    print(f"{target}: {target.stat().st_size / 1e6:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--data", type=Path, default=WORK / "photos")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--skip-prepare", action="store_true")
    parser.add_argument("--ship", type=Path, metavar="TRAINED",
                        help="only write TRAINED (a model file trained elsewhere) as --out")
    args = parser.parse_args()
    if args.ship:
        ship(args.ship, args.out)
        return 0
    if not args.skip_prepare:
        prepare(args.data)
    if args.prepare_only:
        return 0
    trained = WORK / "trained.aemodel"
    command = [sys.executable, "-m", "aestudio", "train", str(args.data), "--model", "denoiser",
               "--task", "denoise", "--noise", "mixed", "--channels", "3",
               "--option", "planes=true", "--val-fraction", "0.05",
               "--batch-size", str(args.batch_size), "--patch", str(args.patch),
               "--max-minutes", str(args.minutes), "--device", args.device,
               "--out", str(trained), "--overwrite"]
    print(" ".join(command), flush=True)
    code = subprocess.run(command, cwd=ROOT).returncode
    if code == 0:
        ship(trained, args.out)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
