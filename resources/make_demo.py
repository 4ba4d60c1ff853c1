"""Build the demo image folders bundled inside the package.

Run from the repository root (needs the shared data folder)::

    .venv/bin/python resources/make_demo.py [--data ../shared/data]

Writes

- ``aestudio/resources/demo/digits/<label>/<n>.png``: 300 MNIST digits per label (3,000 in
  all), drawn with seed 0, 28x28 8-bit gray;
- ``aestudio/resources/demo/photos/``: the eight scikit-image sample photos and textures,
  downscaled so that the longest side is at most 512 px, in their own format (PNG or JPEG).

The output folders are replaced, so the result depends only on the inputs.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "aestudio" / "resources" / "demo"
DEFAULT_DATA = Path("/work/shared/data")
PER_LABEL = 300
SEED = 0
MAX_SIDE = 512


def make_digits(mnist_npz: Path, out: Path, per_label: int = PER_LABEL, seed: int = SEED) -> int:
    """Write ``per_label`` random digits of each label as PNGs; return how many."""
    with np.load(mnist_npz) as data:
        images, labels = data["images"], data["labels"]
    rng = np.random.default_rng(seed)
    shutil.rmtree(out, ignore_errors=True)
    count = 0
    for label in range(10):
        chosen = np.sort(rng.choice(np.flatnonzero(labels == label), per_label, replace=False))
        folder = out / str(label)
        folder.mkdir(parents=True)
        for n, index in enumerate(chosen):
            # optimize=True keeps the 3,000 small files as small as PNG allows
            Image.fromarray(images[index]).save(folder / f"{n:03d}.png", optimize=True)
            count += 1
    return count


def make_photos(source: Path, out: Path, max_side: int = MAX_SIDE) -> list[Path]:
    """Copy the sample photos, downscaled to ``max_side``, keeping PNG or JPEG."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    written = []
    for path in sorted(source.iterdir()):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        with Image.open(path) as im:
            im.load()
            fmt = im.format
            if max(im.size) > max_side:
                scale = max_side / max(im.size)
                size = (round(im.width * scale), round(im.height * scale))
                im = im.resize(size, Image.Resampling.LANCZOS)
            target = out / path.name
            if fmt == "JPEG":
                im.save(target, "JPEG", quality=90, optimize=True)
            else:
                im.save(target, "PNG", optimize=True)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="the shared data folder (mnist/train.npz and demo_photos/)")
    args = parser.parse_args()
    n = make_digits(args.data / "mnist" / "train.npz", DEMO / "digits")
    print(f"wrote {n} digits to {(DEMO / 'digits').relative_to(ROOT)}")
    photos = make_photos(args.data / "demo_photos", DEMO / "photos")
    print(f"wrote {len(photos)} photos to {(DEMO / 'photos').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
