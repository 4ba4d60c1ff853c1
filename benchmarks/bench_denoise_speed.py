"""Denoising a 24-megapixel photo on the CPU: time, memory, and non-local means.

- ``denoise_24mp_seconds``: one 6000 x 4000 RGB PNG through
  :func:`aestudio.core.denoise.batch.denoise_file` (the path ``aestudio denoise`` takes: read,
  tiled inference, blend, write with metadata) with the model a user gets by default: the
  bundled ``photo`` denoiser (a freshly built default ``denoiser`` in a tree without it), in a
  fresh process.
- ``denoise_24mp_peak_extra_mb``: that process's peak resident memory during the call (the
  kernel's ``VmHWM``, reset after the imports and the model load where Linux allows it) less
  its resident memory before the call.
- ``denoise_speedup_vs_nlm``: scikit-image ``denoise_nl_means(fast_mode=True, patch_size=5,
  patch_distance=6, channel_axis=-1)`` against ``denoise_file``, both on the same 1-megapixel
  centre crop of the photo, each timed in its own process: NLM seconds over the app's
  seconds (the baseline text also gives NLM's time scaled to 24 megapixels by pixel count,
  which keeps this benchmark to a few minutes). scikit-image is a benchmark-only dependency;
  without it this figure is reported as n/a.

The photo is the CC0 "coffee" picture (``../shared/data/demo_photos``) enlarged 10x with a
little noise added, or a synthetic picture when the shared data is absent; it is written
once to ``build/bench``. ``--quick`` uses a 1-megapixel version and a 0.25-megapixel crop.

    python -m benchmarks.bench_denoise_speed [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: the repository root is not on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, SHARED_DATA, WORK, Figure, cores, print_figures  # noqa: E402

FULL_SIZE = (6000, 4000)  # width, height: 24 megapixels
QUICK_SIZE = (1200, 800)
CROP_FULL = (1000, 1000)  # the NLM comparison: 1 megapixel
CROP_QUICK = (500, 500)
SOURCE = SHARED_DATA / "demo_photos" / "coffee.png"
NOISE_SIGMA = 8.0  # on the 8-bit scale


def _synthetic(width: int, height: int) -> np.ndarray:
    """Smooth shapes and fine texture, for machines without the shared photos."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 128 + 100 * np.sin(x / 97.0) * np.cos(y / 131.0)
    g = 128 + 90 * np.sin((x + y) / 211.0)
    b = 128 + 60 * np.cos(np.hypot(x - width / 2, y - height / 2) / 53.0)
    return np.stack([r, g, b], axis=-1)


def make_photo(size: tuple[int, int], name: str) -> Path:
    """The test photo at ``size`` (width, height) as an 8-bit RGB PNG, made once."""
    from PIL import Image

    path = WORK / f"{name}-{size[0]}x{size[1]}.png"
    if path.exists():
        return path
    if SOURCE.exists():
        with Image.open(SOURCE) as im:
            base = np.asarray(im.convert("RGB").resize(size, Image.Resampling.LANCZOS),
                              dtype=np.float32)
    else:
        base = _synthetic(*size)
    rng = np.random.default_rng(0)
    noisy = base + rng.normal(0.0, NOISE_SIGMA, base.shape).astype(np.float32)
    pixels = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    Image.fromarray(pixels).save(tmp, compress_level=1)
    tmp.replace(path)
    return path


def crop_photo(photo: Path, size: tuple[int, int]) -> Path:
    """A centre crop of ``photo`` at ``size`` (width, height), made once."""
    from PIL import Image

    path = photo.with_name(f"{photo.stem}-crop-{size[0]}x{size[1]}.png")
    if path.exists():
        return path
    with Image.open(photo) as im:
        left, top = (im.width - size[0]) // 2, (im.height - size[1]) // 2
        im.crop((left, top, left + size[0], top + size[1])).save(path, compress_level=1)
    return path


def make_model() -> Path:
    """The bundled photo denoiser, else a freshly built default colour denoiser (saved once)."""
    from aestudio.core.models.bundled import bundled_models

    if bundled_models():
        return bundled_models()[0].path
    path = WORK / "denoiser-default.aemodel"
    if path.exists():
        return path
    import torch

    from aestudio.core.models import create_model
    from aestudio.core.models.modelfile import save_model_file

    torch.manual_seed(0)
    return save_model_file(path, create_model("denoiser", channels=3))


# --------------------------------------------------------------------------- child processes


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: ``5`` to ``clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child_app(model: str, source: str, target: str) -> dict:
    """In a fresh process: load the model, denoise one file; time and memory."""
    from aestudio.core.denoise.batch import denoise_file
    from aestudio.core.models.modelfile import load_model_file

    loaded = load_model_file(model, device="cpu")
    reset = _reset_peak()
    before = _status_kb("VmRSS")
    start = time.perf_counter()
    denoise_file(loaded, Path(source), Path(target))
    seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM")
    extra = None if before is None or peak is None else (peak - before) / 1024
    return {"seconds": seconds, "peak_extra_mb": extra, "peak_reset": reset}


def child_nlm(source: str) -> dict:
    """In a fresh process: scikit-image non-local means on the image; its time."""
    from PIL import Image
    from skimage.restoration import denoise_nl_means

    with Image.open(source) as im:
        image = np.asarray(im.convert("RGB"), dtype=np.float32) / 255
    start = time.perf_counter()
    denoise_nl_means(image, fast_mode=True, patch_size=5, patch_distance=6, channel_axis=-1)
    return {"seconds": time.perf_counter() - start}


def _in_child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_denoise_speed", "--child", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    sys.stderr.write(done.stderr[-2000:])
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child {args[0]} failed (exit {done.returncode})")
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- figures


def _nlm_available() -> bool:
    try:
        import skimage.restoration  # noqa: F401
    except ImportError:
        return False
    return True


def run(quick: bool = False) -> dict[str, Figure]:
    size, crop = (QUICK_SIZE, CROP_QUICK) if quick else (FULL_SIZE, CROP_FULL)
    photo = make_photo(size, "denoise-photo")
    model = make_model()
    out = WORK / "denoise-out"
    megapixels = size[0] * size[1] / 1e6
    big = _in_child("app", str(model), str(photo), str(out / photo.name))
    what = "24-megapixel" if not quick else f"{megapixels:.2f}-megapixel (quick)"
    from aestudio.core.models.bundled import bundled_name

    which = "bundled photo denoiser" if bundled_name(model) else "default denoiser"
    note = f"{what} RGB PNG, {which}, CPU ({cores()} cores), read to write"
    memory_note = note + ("" if big["peak_reset"] else "; peak since process start")
    figures = {
        "denoise_24mp_seconds": Figure(big["seconds"], "s", goal="report", note=note),
        "denoise_24mp_peak_extra_mb": Figure(big["peak_extra_mb"], "MB", goal="<= 2048",
                                             note=memory_note),
    }
    if not _nlm_available():
        figures["denoise_speedup_vs_nlm"] = Figure(
            None, "x", "scikit-image non-local means", ">= 1",
            note="scikit-image is not installed (pip install scikit-image)")
        return figures
    small = crop_photo(photo, crop)
    app = _in_child("app", str(model), str(small), str(out / small.name))
    nlm = _in_child("nlm", str(small))
    crop_mp = crop[0] * crop[1] / 1e6
    per_24mp = nlm["seconds"] * FULL_SIZE[0] * FULL_SIZE[1] / (crop[0] * crop[1])
    figures["denoise_speedup_vs_nlm"] = Figure(
        nlm["seconds"] / app["seconds"], "x",
        f"{nlm['seconds']:.2f} s scikit-image denoise_nl_means(fast_mode, patch 5, distance 6) "
        f"on a {crop_mp:.2f}-megapixel crop (~{per_24mp:.0f} s for 24 megapixels by pixel count)",
        ">= 1",
        note=f"app {app['seconds']:.2f} s on the same crop through denoise_file "
             "(including reading and writing the PNG)",
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_app(*rest) if kind == "app" else child_nlm(*rest)
        print(json.dumps(result))
    else:
        print_figures(run(args.quick))
