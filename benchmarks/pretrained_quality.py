"""The bundled ``photo`` denoiser, with no training at all, against CBM3D on the same images.

    python -m benchmarks.pretrained_quality [--sets CBSD68,demo,CC15,SIDD5] [--quick]
                                             [--oracle] [--fine-tune MINUTES,...]
                                             [--json-out FILE]

Synthetic rows (CBSD68 and the four colour demo photos, neither in the model's training set):
white Gaussian noise of sigma 25 on the 0-255 scale, seeded per image, clipped to black and
white and rounded to 8 bits as a saved noisy photo is; CBM3D gets the true sigma. The
``unclipped`` row repeats CBSD68 in the classic form (neither clipped nor rounded), the form of
the published figures (FFDNet 31.21 dB, DRUNet 31.69 dB, CBM3D 30.71 dB).

Real-noise rows (CC15 and SIDD5 of ``../shared/data/realnoise``): the noisy photos as they are.
Their CBM3D figure is the oracle (the best sigma against the ground truth, a golden-section
search of six CBM3D runs per photo: about 20 minutes for CC15) and runs with ``--oracle``;
without it the rows quote the oracle of the real-noise benchmark's saved run, if any.

``--fine-tune 5,15`` adds, per real-noise set, the bundled model fine-tuned on that set's noisy
photos alone (``train --init photo --task self-supervised``, the defaults otherwise) for each
budget, scored on all photos and on the held-out ones (the real-noise benchmark's split).

Timings are seconds per image on this machine for the model (the app's tiled inference) and
for one CBM3D call. ``--quick`` scores two small crops per set (CI).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import SHARED_DATA, WORK, Figure, note_saved_run, print_figures  # noqa: E402
from benchmarks.realnoise_quality import cbm3d_oracle, photos, psnr8, read_rgb  # noqa: E402

SIGMA = 25
SEED = 0
SETS = ("CBSD68", "demo", "CC15", "SIDD5")
DEMO_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")
REALNOISE_SAVED = WORK / "realnoise_quality.json"
QUICK_CROP = 96


def clean_images(name: str, quick: bool) -> list[tuple[str, torch.Tensor]]:
    """(file name, clean (3, H, W) image) of a synthetic-noise set."""
    if name == "CBSD68":
        folder = SHARED_DATA / "denoise" / "CBSD68"
        files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg"))
    else:
        folder = SHARED_DATA / "demo_photos"
        files = [folder / f for f in DEMO_PHOTOS if (folder / f).exists()]
    images = [(f.name, read_rgb(f)) for f in files[: 2 if quick else None]]
    if quick:
        images = [(n, x[:, :QUICK_CROP, :QUICK_CROP]) for n, x in images]
    return images


def add_noise(clean: torch.Tensor, index: int, classic: bool) -> torch.Tensor:
    """Gaussian noise of :data:`SIGMA`; clipped and rounded to 8 bits unless ``classic``."""
    generator = torch.Generator().manual_seed(SEED * 1_000_003 + index)
    noisy = clean + SIGMA / 255 * torch.randn(clean.shape, generator=generator)
    return noisy if classic else torch.round(noisy.clamp(0, 1) * 255) / 255


def cbm3d(noisy: torch.Tensor, sigma: float) -> torch.Tensor:
    import bm3d

    z = noisy.permute(1, 2, 0).double().numpy()
    out = bm3d.bm3d_rgb(z, sigma / 255)
    return torch.from_numpy(np.ascontiguousarray(out, np.float32)).permute(2, 0, 1)


def timed(fn, *args) -> tuple[torch.Tensor, float]:
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def score_synthetic(model, name: str, images: list[tuple[str, torch.Tensor]], classic: bool,
                    baseline: bool) -> dict:
    """The model (and CBM3D with the true sigma) on ``images`` of set ``name`` with noise."""
    from aestudio.core.denoise.apply import denoise_tensor

    rows = {"noisy": [], "photo": [], "cbm3d": [], "photo_s": [], "cbm3d_s": []}
    for index, (_, clean) in enumerate(images):
        noisy = add_noise(clean, index, classic)
        out, seconds = timed(denoise_tensor, model, noisy)
        rows["noisy"].append(psnr8(noisy, clean))
        rows["photo"].append(psnr8(out, clean))
        rows["photo_s"].append(seconds)
        if baseline:
            out, seconds = timed(cbm3d, noisy, SIGMA)
            rows["cbm3d"].append(psnr8(out, clean))
            rows["cbm3d_s"].append(seconds)
    label = f"{name}, sigma {SIGMA}" + (" unclipped (classic)" if classic else " clipped")
    return {"set": label, "images": len(rows["noisy"]),
            **{k: round(float(np.mean(v)), 3) for k, v in rows.items() if v}}


def saved_oracle(name: str) -> float | None:
    try:
        saved = json.loads(REALNOISE_SAVED.read_text())
    except (OSError, ValueError):
        return None
    for result in saved.get("results", []):
        if result.get("set") == name:
            return result["methods"].get("cbm3d", {}).get("psnr")
    return None


def score_real(model, name: str, quick: bool, oracle: bool) -> dict:
    from aestudio.core.denoise.apply import denoise_tensor

    _, pairs = photos(name, quick, WORK / "pretrained")
    rows = {"noisy": [], "photo": [], "photo_s": [], "cbm3d": [], "cbm3d_s": []}
    for _file, noisy, clean in pairs:
        out, seconds = timed(denoise_tensor, model, noisy)
        rows["noisy"].append(psnr8(noisy, clean))
        rows["photo"].append(psnr8(out, clean))
        rows["photo_s"].append(seconds)
        if oracle:
            best, _, call_s = cbm3d_oracle(noisy, clean, quick)
            rows["cbm3d"].append(best)
            rows["cbm3d_s"].append(call_s)
    result = {"set": f"{name} (real noise)", "images": len(pairs),
              **{k: round(float(np.mean(v)), 3) for k, v in rows.items() if v}}
    if not oracle:
        result["cbm3d"] = saved_oracle(name)
        result["cbm3d_source"] = "saved real-noise run" if result["cbm3d"] else None
    result["cbm3d_kind"] = "oracle sigma"
    return result


def fine_tune(name: str, minutes: float, quick: bool) -> dict:
    """The bundled model fine-tuned on the noisy photos of ``name`` for ``minutes``."""
    from aestudio.core.config import DataConfig, TrainConfig
    from aestudio.core.denoise.apply import denoise_tensor
    from aestudio.core.training.job import fine_tune_job
    from aestudio.core.training.trainer import fit
    from benchmarks.realnoise_quality import SEED as REAL_SEED
    from benchmarks.realnoise_quality import held_out

    folder, pairs = photos(name, quick, WORK / "pretrained")
    out = WORK / "pretrained" / f"{name}-fine-tuned-{minutes:g}.aemodel"
    out.unlink(missing_ok=True)
    train = TrainConfig(task="self-supervised", epochs=100_000, max_minutes=minutes,
                        seed=REAL_SEED)
    job = fine_tune_job("photo", DataConfig(folder=str(folder), val_fraction=0.0), train, out)
    result = fit(job)
    print(f"[fine-tune] {name}: {result.message}", file=sys.stderr, flush=True)
    every, kept = [], []
    for file, noisy, clean in pairs:
        score = psnr8(denoise_tensor(result.model, noisy), clean)
        every.append(score)
        if held_out(name, file):
            kept.append(score)
    return {"set": f"{name} (real noise)", "minutes": minutes, "steps": result.step,
            "spacing": int(result.model.config.spacing),
            "psnr": round(float(np.mean(every)), 3),
            "held_out_psnr": round(float(np.mean(kept)), 3) if kept else None}


def table(results: list[dict]) -> str:
    lines = ["| set | images | noisy | bundled `photo` | CBM3D | photo s/image | CBM3D s/call |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        base = "-" if r.get("cbm3d") is None else f"{r['cbm3d']}"
        if r.get("cbm3d_kind"):
            base += f" ({r['cbm3d_kind']})"
        lines.append(f"| {r['set']} | {r['images']} | {r['noisy']} | {r['photo']} | {base} | "
                     f"{r['photo_s']} | {r.get('cbm3d_s', '-')} |")
    return "\n".join(lines)


def figures_of(results: list[dict]) -> dict[str, Figure]:
    figures = {}
    for r in results:
        key = r["set"].split(",")[0].split(" ")[0].lower()
        if "unclipped" in r["set"]:
            key += "_classic"
        if r.get("cbm3d") is not None:
            figures[f"pretrained_{key}_minus_cbm3d_db"] = Figure(
                round(r["photo"] - r["cbm3d"], 2), "dB", f"CBM3D {r['cbm3d']} dB", "> 0",
                f"{r['set']}: bundled model {r['photo']} dB, no training")
    return figures


def figures_from_saved(saved: dict) -> dict[str, Figure]:
    """The figures of a run saved with ``--json-out``, each noting when and how it ran."""
    return note_saved_run(figures_of(saved.get("results", [])), saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--oracle", action="store_true",
                        help="run CBM3D's oracle search on the real-noise sets (long)")
    parser.add_argument("--fine-tune", default="", metavar="MINUTES,...",
                        help="also fine-tune on each real-noise set for these budgets")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    try:
        import bm3d  # noqa: F401
        baseline = True
    except ImportError:
        print("pretrained: no CBM3D column (pip install bm3d for the baseline)",
              file=sys.stderr)
        baseline = False
    from aestudio.core.models.opening import open_model

    loaded, _ = open_model("photo", device="cpu")
    results = []
    for name in args.sets.split(","):
        if name in ("CBSD68", "demo"):
            images = clean_images(name, args.quick)  # read once for both noise forms
            if not images:
                print(f"pretrained: {name} skipped (absent)", file=sys.stderr)
                continue
            results.append(score_synthetic(loaded.model, name, images, False, baseline))
            if name == "CBSD68":
                results.append(score_synthetic(loaded.model, name, images, True, baseline))
        elif (SHARED_DATA / "realnoise" / name).is_dir():
            results.append(score_real(loaded.model, name, args.quick, args.oracle and baseline))
        if results:
            print(table(results[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    tuned = []
    for minutes in [float(m) for m in args.fine_tune.split(",") if m]:
        for name in ("CC15", "SIDD5"):
            if name in args.sets.split(",") and (SHARED_DATA / "realnoise" / name).is_dir():
                tuned.append(fine_tune(name, minutes, args.quick))
    print(table(results))
    if tuned:
        print("\n| set | bundled `photo`, fine-tuned (self-supervised) | steps | PSNR | held out |")
        print("|---|---|---|---|---|")
        for row in tuned:
            print(f"| {row['set']} | {row['minutes']:g} min, spacing {row['spacing']} | "
                  f"{row['steps']} | {row['psnr']} | {row['held_out_psnr']} |")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(
            {"date": datetime.date.today().isoformat(),
             "mode": "quick" if args.quick else "full",
             "command": "python -m benchmarks.pretrained_quality " + " ".join(argv or sys.argv[1:]),
             "results": results, "fine_tuned": tuned}, indent=1))
    print_figures(figures_of(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
