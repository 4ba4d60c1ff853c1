"""Denoising quality: the app's denoisers against BM3D and the published figures.

    python -m benchmarks.denoise_quality [--minutes 15] [--quick] [--json-out FILE]

Everything runs through the app's own code: ``core.training.trainer.fit`` trains, and
``core.evaluate.evaluate_folder`` (what ``aestudio evaluate`` prints) scores. Conventions of
the denoising literature: clean images in [0, 255], Gaussian noise added in that scale and not
clipped, the output rounded to 8 bits, PSNR on the 8-bit scale, noise seeded per image.

Sections (each can be skipped with ``--skip``):

``gray``
    One supervised ``denoiser`` per sigma (15, 25, 50), trained on the clean BSD68 photos
    with synthetic Gaussian noise, scored on Set12 (never seen in training). The sigma-25
    model gets ``--minutes``, the others ``--side-minutes``.
``colour``
    A colour ``denoiser`` trained on CBSD68 at sigma 25 for ``--minutes``, scored on the
    colour photos of ``demo_photos`` (astronaut, chelsea, coffee, rocket), which it never saw.
``self``
    Self-supervised training (``--task self-supervised``) on one noisy copy of BSD68 at
    sigma 25 alone, for ``--minutes``, scored on those same noisy images against the clean
    ones: the Noise2Void protocol (its published figure is quoted in the table).
``memory``
    Peak resident memory added by denoising a 24-megapixel RGB photo on the CPU (a fresh
    process; /proc/self/status VmHWM), and the time it takes.

The classic baseline runs on exactly the same noisy images in the same run, with timings:
BM3D (``pip install bm3d``; non-commercial licence, never imported by aestudio itself),
else scikit-image non-local means, else none. ``--quick`` (CI) trains for seconds and scores
two 128x128 crops per set.

Prints a markdown table beside the published figures, writes everything as JSON with
``--json-out``, and ends with one JSON line of figures for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import os

# Idle OpenMP threads yield instead of spinning: on a CPU shared with other work, spinning
# threads made every training step several times slower (see docs/benchmarks.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import SHARED_DATA, WORK, Figure, print_figures  # noqa: E402

# The denoiser settings measured best for a CPU training budget of minutes (docs/denoise.md).
GRAY_OPTIONS: dict[str, Any] = {}
COLOUR_OPTIONS: dict[str, Any] = {"planes": True}
# Long epochs: validation (64 patches) then runs every ~1000 steps instead of every ~100,
# which on a CPU would otherwise take up to a quarter of a self-supervised run.
# The literature's convention: Gaussian noise not clipped (the app clips by default).
TRAIN_FLAGS: dict[str, Any] = {"batch_size": 16, "lr": 2e-3, "patches_per_epoch": 16_000,
                               "clip_noise": False}
PATCH = 64
SELF_PATCH = 128  # Neighbor2Neighbor trains on half-size sub-images of each patch
SELF_FLAGS: dict[str, Any] = {"batch_size": 8, "lr": 2e-3, "patches_per_epoch": 8_000}
SEED = 0

# Published figures, PSNR in dB. BSD68 and Set12 sigma 25 from ../shared/data/README.md;
# Set12 sigma 15/50 from the same paper's Table III (Zhang et al., IEEE TIP 2017).
PUBLISHED: dict[str, dict[int, dict[str, float]]] = {
    "Set12": {15: {"BM3D": 32.37, "DnCNN-S": 32.86},
              25: {"BM3D": 29.97, "DnCNN-S": 30.44},
              50: {"BM3D": 26.72, "DnCNN-S": 27.18}},
    "BSD68": {15: {"BM3D": 31.07, "DnCNN-S": 31.73},
              25: {"BM3D": 28.57, "DnCNN-S": 29.23, "Noise2Void": 27.81},
              50: {"BM3D": 25.62, "DnCNN-S": 26.23}},
}
COLOUR_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")


@dataclass
class Row:
    """One line of the results table."""

    section: str
    test_set: str
    sigma: int
    images: int
    psnr: float
    ssim: float
    noisy_psnr: float
    model_s: float  # mean seconds per image
    train: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None
    baseline_psnr: float | None = None
    baseline_s: float | None = None
    published: dict[str, float] = field(default_factory=dict)


# -- data --------------------------------------------------------------------------------
def crop_folder(source: Path, names: list[str] | None, limit: int | None, crop: int | None,
                target: Path) -> Path:
    """``source`` as is, or a folder of its first ``limit`` images (centre-cropped)."""
    if limit is None and crop is None and names is None:
        return source
    from aestudio.core.data.scan import scan_folder
    from aestudio.core.io.read import read_image
    from aestudio.core.io.write import write_image

    target.mkdir(parents=True, exist_ok=True)
    records = [r for r in scan_folder(source).images if names is None or r.path.name in names]
    for record in records[:limit]:
        image, _ = read_image(record.path)
        if crop:
            h, w = image.shape[:2]
            top, left = max(0, (h - crop) // 2), max(0, (w - crop) // 2)
            image = image[top:top + crop, left:left + crop]
        write_image(target / f"{record.path.stem}.png", image)
    return target


def noisy_set(folder: Path, noise: str, seed: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Clean and noisy (C, H, W) float images, the noise drawn exactly as
    :func:`aestudio.core.evaluation.evaluate.evaluate_folder` draws it (checked against its report)."""
    from aestudio.core.data.decode import decode_folder
    from aestudio.core.data.noise import parse_noise
    from aestudio.core.data.scan import scan_folder

    decoded = decode_folder(scan_folder(folder), size=None, channels=None)
    model = parse_noise(noise)
    clean, noisy = [], []
    for index, array in enumerate(decoded.images):
        x = torch.from_numpy(np.asarray(array, dtype=np.float32) / 255.0)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + index)
        clean.append(x)
        noisy.append(model.apply(x[None], generator, clip=False)[0])
    return clean, noisy


def self_supervised_data(noisy: list[torch.Tensor], patch: int):
    """Training data holding the noisy images themselves, unclipped (stored as 16-bit steps
    in int32, so values below 0 and above 1 survive)."""
    from aestudio.core.data.training_data import TrainingData, split_indices

    images = [torch.round(x * 65535).to(torch.int32) for x in noisy]
    train_index, val_index = split_indices(len(images), 0.0, SEED)
    return TrainingData(images=images, scale=65535.0, train_index=train_index,
                        val_index=val_index, patch=patch, bit_depth=16)


# -- baseline ----------------------------------------------------------------------------
def pick_baseline(choice: str) -> str | None:
    """``bm3d`` when the package is installed, else ``nlm`` (scikit-image), else None."""
    options = ["bm3d", "nlm"] if choice == "auto" else [choice]
    for name in options:
        try:
            __import__("bm3d" if name == "bm3d" else "skimage.restoration")
            return name
        except ImportError:
            continue
    return None


def run_baseline(name: str, noisy: torch.Tensor, sigma: float) -> torch.Tensor:
    """BM3D / CBM3D or non-local means of one (C, H, W) image; sigma on the 0-255 scale."""
    z = noisy.permute(1, 2, 0).double().numpy()
    s = sigma / 255.0
    if name == "bm3d":
        import bm3d

        out = bm3d.bm3d_rgb(z, s) if z.shape[2] == 3 else bm3d.bm3d(z[..., 0], s)[..., None]
    else:
        from skimage.restoration import denoise_nl_means

        out = denoise_nl_means(z, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6,
                               fast_mode=True, channel_axis=-1)
        out = out.reshape(z.shape)
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32)).permute(2, 0, 1)


# -- training and scoring ----------------------------------------------------------------
def train(name: str, folder: Path, options: dict, noise: str, minutes: float, out: Path, *,
          task: str = "denoise", patch: int = PATCH, flags: dict | None = None,
          data=None, channels: int = 0) -> dict[str, Any]:
    """Train with the app's trainer for a time budget; returns what the run did."""
    from aestudio.core.config import DataConfig, TrainConfig
    from aestudio.core.training.trainer import TrainingJob, fit

    flags = {**TRAIN_FLAGS, **(flags or {})}
    job = TrainingJob(
        model="denoiser", model_options=options,
        data=DataConfig(folder=str(folder), patch=patch, channels=channels, val_fraction=0.0),
        train=TrainConfig(task=task, noise=noise, epochs=100_000, max_minutes=minutes,
                          device="cpu", seed=SEED, sample_seconds=60.0, **flags),
        out=out,
    )
    print(f"[{name}] training {minutes:g} min on {folder.name} ({task}, {noise})",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    result = fit(job, data)
    seconds = time.perf_counter() - started
    print(f"[{name}] {result.message}, {seconds:.0f} s", file=sys.stderr, flush=True)
    return {"minutes": minutes, "steps": result.step, "seconds": round(seconds, 1),
            "task": task, "noise": noise, "options": options, "patch": patch, **flags}


def score(section: str, model_path: Path, folder: Path, test_name: str, sigma: int,
          baseline: str | None, train_info: dict, published: dict[str, float]) -> Row:
    """The model's PSNR/SSIM from ``evaluate_folder``, plus per-image timings of the model
    and of the baseline on the same noisy images."""
    from aestudio.core.denoise.apply import denoise_tensor
    from aestudio.core.evaluation.evaluate import evaluate_folder, quantize
    from aestudio.core.evaluation.metrics import psnr
    from aestudio.core.models.modelfile import load_model_file

    noise = f"gaussian:{sigma}"
    loaded = load_model_file(model_path)
    report = evaluate_folder(loaded, folder, noise=noise, seed=SEED)
    clean, noisy = noisy_set(folder, noise, SEED)
    noisy_psnr = float(np.mean([psnr(n[None], c[None]) for n, c in zip(noisy, clean,
                                                                          strict=True)]))
    if abs(noisy_psnr - report["noisy_psnr"]) > 1e-2:
        raise RuntimeError("the baseline's noisy images differ from the evaluation's")
    denoise_tensor(loaded.model, noisy[0])  # warm-up: first-call allocations
    model_s, base_s, base_psnr = [], [], []
    for c, n in zip(clean, noisy, strict=True):
        started = time.perf_counter()
        denoise_tensor(loaded.model, n)
        model_s.append(time.perf_counter() - started)
        if baseline:
            started = time.perf_counter()
            out = run_baseline(baseline, n, sigma)
            base_s.append(time.perf_counter() - started)
            base_psnr.append(psnr(quantize(out)[None], c[None]))
    row = Row(section, test_name, sigma, report["images"], report["psnr"], report["ssim"],
              round(noisy_psnr, 3), float(np.mean(model_s)), train_info, baseline,
              round(float(np.mean(base_psnr)), 3) if base_psnr else None,
              float(np.mean(base_s)) if base_s else None, published)
    base = f", {baseline} {row.baseline_psnr} dB" if baseline else ""
    print(f"[{section}] {test_name} sigma {sigma}: {row.psnr} dB{base}", file=sys.stderr,
          flush=True)
    return row


# -- memory ------------------------------------------------------------------------------
_MEMORY_CHILD = r"""
import json, sys, time
from pathlib import Path
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
from aestudio.core.denoise.batch import denoise_file
from aestudio.core.models.modelfile import load_model_file
loaded = load_model_file(sys.argv[1])
source, target = Path(sys.argv[2]), Path(sys.argv[3])
before = hwm()
started = time.perf_counter()
denoise_file(loaded, source, target)
print(json.dumps({"before": before, "peak": hwm(), "seconds": time.perf_counter() - started}))
"""


def measure_memory(model_path: Path, width: int, height: int, work: Path) -> dict[str, Any]:
    """Peak memory added by denoising one RGB photo, in a fresh process (VmHWM)."""
    from aestudio.core.io.write import write_image

    source = work / f"photo_{width}x{height}.tif"
    if not source.exists():
        rng = np.random.default_rng(0)
        tile = rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)
        write_image(source, np.tile(tile, (height // 256 + 1, width // 256 + 1, 1))[:height, :width])
    target = work / "out" / source.name
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(model_path), str(source),
                           str(target)], capture_output=True, text=True, env=env, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    delta = result["peak"] - result["before"]
    print(f"[memory] {width}x{height} RGB: +{delta / 2**30:.2f} GiB peak, "
          f"{result['seconds']:.1f} s", file=sys.stderr, flush=True)
    return {"megapixels": round(width * height / 1e6, 1), "peak_delta_gib": round(delta / 2**30, 3),
            "seconds": round(result["seconds"], 1)}


# -- report ------------------------------------------------------------------------------
def table(rows: list[Row]) -> str:
    lines = [
        "| section | test set | sigma | images | ours PSNR / SSIM | baseline PSNR (same run) "
        "| published | ours s/img | baseline s/img | speed-up | training |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        published = ", ".join(f"{k} {v}" for k, v in r.published.items()) or "-"
        base = f"{r.baseline} {r.baseline_psnr:.2f}" if r.baseline_psnr is not None else "-"
        base_s = f"{r.baseline_s:.2f}" if r.baseline_s is not None else "-"
        speed = f"{r.baseline_s / r.model_s:.0f}x" if r.baseline_s else "-"
        t = r.train
        training = f"{t.get('minutes', 0):g} min, {t.get('steps', 0)} steps"
        lines.append(f"| {r.section} | {r.test_set} | {r.sigma} | {r.images} | "
                     f"{r.psnr:.2f} / {r.ssim:.3f} | {base} | {published} | {r.model_s:.2f} | "
                     f"{base_s} | {speed} | {training} |")
    return "\n".join(lines)


def figures_of(rows: list[Row], memory: dict | None) -> dict[str, Figure]:
    figures: dict[str, Figure] = {}
    for r in rows:
        key = f"denoise_{r.section}_{r.test_set.lower()}_s{r.sigma}_psnr"
        goal = {("gray", 25): "> 29.97 (BM3D, Set12)", ("self", 25): "> 27.81 (Noise2Void)"}
        figures[key] = Figure(
            r.psnr, "dB", f"{r.baseline} {r.baseline_psnr}" if r.baseline else None,
            goal.get((r.section, r.sigma)) or ("> CBM3D" if r.section == "colour" else None))
        if r.baseline_s:
            figures[f"denoise_{r.section}_s{r.sigma}_speedup"] = Figure(
                round(r.baseline_s / r.model_s, 1), "x", r.baseline, ">= 20")
    if memory:
        figures["denoise_24mp_peak_memory"] = Figure(memory["peak_delta_gib"], "GiB",
                                                     None, "<= 2")
    return figures


def figures_from_saved(saved: dict[str, Any]) -> dict[str, Figure]:
    """The figures of a run saved with ``--json-out``, each noting when and how it ran."""
    rows = [Row(**row) for row in saved.get("rows", [])]
    figures = figures_of(rows, saved.get("memory"))
    when = f"run of {saved['date']}" if saved.get("date") else "saved run"
    for figure in figures.values():
        figure.note = f"{when}: {saved.get('command', 'python -m benchmarks.denoise_quality')}"
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder")
    parser.add_argument("--minutes", type=float, default=15.0,
                        help="training budget of the gray sigma-25, colour and self-supervised "
                             "models")
    parser.add_argument("--side-minutes", type=float,
                        help="budget of the gray sigma-15 and sigma-50 models (minutes / 3)")
    parser.add_argument("--sigmas", default="25,15,50", help="gray noise levels")
    parser.add_argument("--lr", type=float, help="peak learning rate of the supervised runs "
                        f"(default {TRAIN_FLAGS['lr']})")
    parser.add_argument("--skip", default="", help="sections to skip: gray,colour,self,memory")
    parser.add_argument("--baseline", default="auto", choices=["auto", "bm3d", "nlm", "none"])
    parser.add_argument("--self-baseline", action="store_true",
                        help="also run the baseline on the 68 BSD68 images (slow)")
    parser.add_argument("--quick", action="store_true", help="seconds per section (CI)")
    parser.add_argument("--json-out", type=Path, help="write all results here as JSON")
    parser.add_argument("--work", type=Path, default=WORK / "denoise",
                        help="where models and crops go")
    args = parser.parse_args(argv)

    denoise = args.data / "denoise"
    if not (denoise / "BSD68").is_dir():
        print(f"no denoising data at {denoise}; nothing measured", file=sys.stderr)
        print_figures({})
        return 0
    quick = args.quick
    minutes = 0.05 if quick else args.minutes
    side = 0.05 if quick else (args.side_minutes or args.minutes / 3)
    sigmas = [25] if quick else [int(s) for s in args.sigmas.split(",") if s]
    limit, crop = (2, 128) if quick else (None, None)
    skip = set(filter(None, args.skip.split(",")))
    baseline = None if args.baseline == "none" else pick_baseline(args.baseline)
    flags = {**TRAIN_FLAGS, **({"lr": args.lr} if args.lr else {})}
    work = args.work / ("quick" if quick else "full")
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    memory = None
    started = time.perf_counter()
    torch.manual_seed(SEED)

    def save() -> None:
        """Write what is measured so far: a long run that is cut short keeps its rows."""
        if args.json_out:
            args.json_out.parent.mkdir(parents=True, exist_ok=True)
            args.json_out.write_text(json.dumps(results(), indent=2) + "\n")

    def results() -> dict[str, Any]:
        return {
            "mode": "quick" if quick else "full",
            "date": datetime.date.today().isoformat(),
            "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.denoise_quality",
                                 *(argv if argv is not None else sys.argv[1:])]),
            "baseline": baseline,
            "threads": torch.get_num_threads(),
            "seconds": round(time.perf_counter() - started, 1),
            "rows": [r.__dict__ for r in rows],
            "memory": memory,
            "table": table(rows),
        }

    def gray(sigma: int) -> None:
        set12 = crop_folder(denoise / "Set12", None, limit, crop, work / "Set12")
        path = work / f"gray_s{sigma}.aemodel"
        info = train(f"gray s{sigma}", denoise / "BSD68", GRAY_OPTIONS, f"gaussian:{sigma}",
                     minutes if sigma == 25 else side, path, channels=1, flags=flags)
        rows.append(score("gray", path, set12, "Set12", sigma, baseline, info,
                          PUBLISHED["Set12"][sigma]))
        save()

    # The headline figures first (gray sigma 25, self-supervised, colour), the other
    # sigmas last, so that a run cut short has measured what matters most.
    if "gray" not in skip and 25 in sigmas:
        gray(25)

    if "self" not in skip:
        bsd68 = crop_folder(denoise / "BSD68", None, limit, crop, work / "BSD68")
        _, noisy = noisy_set(bsd68, "gaussian:25", SEED)
        patch = min(SELF_PATCH, *(min(x.shape[-2:]) for x in noisy))
        path = work / "self_s25.aemodel"
        info = train("self", bsd68, GRAY_OPTIONS, "gaussian:25", minutes, path,
                     task="self-supervised", patch=patch, flags=SELF_FLAGS,
                     data=self_supervised_data(noisy, patch))
        published = {k: v for k, v in PUBLISHED["BSD68"][25].items() if k != "DnCNN-S"}
        rows.append(score("self", path, bsd68, "BSD68", 25,
                          baseline if (args.self_baseline or quick) else None, info,
                          published))
        save()

    if "colour" not in skip:
        photos = crop_folder(args.data / "demo_photos", list(COLOUR_PHOTOS), limit, crop,
                             work / "photos")
        path = work / "colour_s25.aemodel"
        info = train("colour", denoise / "CBSD68", COLOUR_OPTIONS, "gaussian:25", minutes, path,
                     channels=3, flags=flags)
        rows.append(score("colour", path, photos, "photos", 25, baseline, info, {}))
        save()

    if "gray" not in skip:
        for sigma in sigmas:
            if sigma != 25:
                gray(sigma)

    if "memory" not in skip and rows:
        model_path = work / ("colour_s25.aemodel" if "colour" not in skip else "gray_s25.aemodel")
        if not model_path.exists():
            model_path = next(work.glob("*.aemodel"))
        size = (1200, 800) if quick else (6000, 4000)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            memory = measure_memory(model_path, *size, Path(tmp))
        save()

    print(table(rows))
    if memory:
        print(f"\nmemory: {memory}")
    save()
    print_figures(figures_of(rows, memory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
