"""Real camera noise: the app's denoisers on CC15 and SIDD5 against CBM3D and the noisy input.

    python -m benchmarks.realnoise_quality [--minutes 15] [--sets CC15,SIDD5] [--quick]

For each set of ``../shared/data/realnoise`` (noisy photos with their ground truth):

``self``
    Self-supervised training with the defaults (``--task self-supervised``, the
    ``denoiser`` with its default options, every training option at its default but the
    time budget) on the set's noisy photos alone, for ``--minutes``; then each noisy photo
    is denoised and scored against its ground truth (the protocol of the published
    self-supervised figures: the method sees the noisy test photos, never the clean ones).
    The validation share is 0, so that every photo scored is one it learnt from.
``camera``
    The supervised colour ``denoiser`` (defaults) trained for ``--minutes`` on the clean
    CBSD68 photos with synthetic camera noise (``--noise camera``), never on a realnoise
    photo; one model, scored on every set.
``cbm3d``
    CBM3D (``pip install bm3d``, never imported by aestudio) with the sigma that scores best
    against the ground truth, searched per photo (an oracle, generous to it).
``noisy``
    The noisy photos themselves.

Scoring: 8-bit RGB, the output rounded to 8 bits, PSNR on that scale, averaged per set, and
also over the held-out photos alone: the design choices (the correlation threshold, the
spacing) were tuned on the ``*_1`` photos of CC15; its ``*_2`` and ``*_3`` photos and all of
SIDD5 were held back. ``--quick`` (CI) trains for seconds and scores 128x128 crops of two
photos per set, without the oracle search.

Prints a markdown table beside the published figures and ends with one JSON line of figures
for ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see denoise_quality.py

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import SHARED_DATA, WORK, Figure, note_saved_run, print_figures  # noqa: E402

SETS = ("CC15", "SIDD5")
TUNED_ON = {"CC15": ("_1.png",), "SIDD5": ()}  # name endings of the photos tuned on
# Published PSNR on CC15 (../shared/data/README.md), self-supervised unless said otherwise.
PUBLISHED = {"CC15": {"Noise2Void": 32.27, "Noise2Self": 33.38, "ZS-N2N": 33.51,
                      "AP-BSN": 34.86, "LG-BPN": 34.58, "Self2Self (hours per image)": 37.52,
                      "Restormer (supervised, SIDD pairs)": 36.27}}
SEED = 0
SIGMA_RANGE = (1.0, 60.0)  # CBM3D's sigma, 0-255 scale, for the oracle search


def read_rgb(path: Path) -> torch.Tensor:
    """A (3, H, W) float image in [0, 1]."""
    from aestudio.core.io.read import read_image

    image, _ = read_image(path)
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    scale = 65535.0 if np.asarray(image).dtype == np.uint16 else 255.0
    return torch.from_numpy(array[..., :3] / scale).permute(2, 0, 1).contiguous()


def psnr8(output: torch.Tensor, clean: torch.Tensor) -> float:
    """PSNR in dB of ``output`` rounded to 8 bits against ``clean`` (both in [0, 1])."""
    out = torch.round(output.clamp(0, 1) * 255)
    ref = torch.round(clean * 255)
    mse = float(((out - ref) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def photos(name: str, quick: bool, work: Path) -> tuple[Path, list[tuple[str, torch.Tensor,
                                                                          torch.Tensor]]]:
    """The noisy folder to train on and (name, noisy, clean) per photo."""
    root = SHARED_DATA / "realnoise" / name
    names = sorted(p.name for p in (root / "noisy").glob("*.png"))
    if quick:
        names = names[:2]
    pairs = []
    folder = root / "noisy"
    if quick:
        from aestudio.core.io.write import write_image

        folder = work / f"{name}-noisy"
        folder.mkdir(parents=True, exist_ok=True)
    for file in names:
        noisy, clean = read_rgb(root / "noisy" / file), read_rgb(root / "clean" / file)
        if quick:
            noisy, clean = noisy[:, :128, :128], clean[:, :128, :128]
            write_image(folder / file, np.round(noisy.permute(1, 2, 0).numpy() * 255)
                        .astype(np.uint8))
        pairs.append((file, noisy, clean))
    return folder, pairs


def train_self(folder: Path, minutes: float, out: Path,
               options: dict | None = None, reuse: bool = False) -> tuple[object, dict]:
    """Self-supervised training with the defaults (or ``options``, a tuned row) on
    ``folder``; (model, what it did). With ``reuse``, the model an earlier run left at
    ``out`` is scored again instead (the denoising code may have changed, not the run)."""
    from aestudio.core.config import DataConfig, TrainConfig
    from aestudio.core.training.trainer import TrainingJob, fit

    if reuse and out.is_file():
        from aestudio.core.models.modelfile import load_model_file

        loaded = load_model_file(out)
        step = int(loaded.meta.get("training_state", {}).get("step", 0))
        minutes_used = float(loaded.meta.get("train", {}).get("max_minutes") or minutes)
        print(f"[self] {folder.parent.name}: reusing {out.name} ({step} steps)",
              file=sys.stderr, flush=True)
        return loaded.model.eval(), {"minutes": minutes_used, "steps": step,
                                     "spacing": int(loaded.model.config.spacing),
                                     "reused": True}

    job = TrainingJob(model="denoiser", model_options=dict(options or {}),
                      data=DataConfig(folder=str(folder), val_fraction=0.0),
                      train=TrainConfig(task="self-supervised", epochs=100_000,
                                        max_minutes=minutes, seed=SEED),
                      out=out)
    out.unlink(missing_ok=True)  # a fresh model each run
    started = time.perf_counter()
    result = fit(job)
    info = {"minutes": minutes, "steps": result.step,
            "seconds": round(time.perf_counter() - started, 1),
            "spacing": int(result.model.config.spacing)}
    print(f"[self] {folder.parent.name}: {result.message}; spacing {info['spacing']}",
          file=sys.stderr, flush=True)
    return result.model, info


def train_camera(minutes: float, quick: bool, work: Path) -> tuple[object, dict]:
    """The supervised denoiser on clean CBSD68 photos with camera noise; (model, info)."""
    from aestudio.core.config import DataConfig, TrainConfig
    from aestudio.core.training.trainer import TrainingJob, fit

    folder = SHARED_DATA / "denoise" / "CBSD68"
    out = work / "camera.aemodel"
    out.unlink(missing_ok=True)
    job = TrainingJob(model="denoiser", data=DataConfig(folder=str(folder), channels=3),
                      train=TrainConfig(task="denoise", noise="camera", epochs=100_000,
                                        max_minutes=minutes, seed=SEED),
                      out=out)
    started = time.perf_counter()
    result = fit(job)
    info = {"minutes": minutes, "steps": result.step,
            "seconds": round(time.perf_counter() - started, 1)}
    print(f"[camera] CBSD68: {result.message}", file=sys.stderr, flush=True)
    return result.model, info


def cbm3d_oracle(noisy: torch.Tensor, clean: torch.Tensor, quick: bool) -> tuple[float, float,
                                                                                   float]:
    """(best PSNR, its sigma 0-255, seconds per CBM3D call) by a golden-section search over
    log sigma in :data:`SIGMA_RANGE` against the ground truth."""
    import bm3d

    z = noisy.permute(1, 2, 0).double().numpy()
    seen: dict[float, float] = {}
    seconds: list[float] = []

    def score(sigma: float) -> float:
        sigma = round(sigma, 1)
        if sigma not in seen:
            started = time.perf_counter()
            out = bm3d.bm3d_rgb(z, sigma / 255)
            seconds.append(time.perf_counter() - started)
            seen[sigma] = psnr8(torch.from_numpy(np.ascontiguousarray(out, np.float32))
                                .permute(2, 0, 1), clean)
        return seen[sigma]

    if quick:
        score(10.0)
    else:  # golden-section search on log(sigma): six CBM3D runs per photo
        low, high = math.log(SIGMA_RANGE[0]), math.log(SIGMA_RANGE[1])
        ratio = (5**0.5 - 1) / 2
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        for _ in range(4):
            if score(math.exp(a)) >= score(math.exp(b)):
                high, b = b, a
                a = high - ratio * (high - low)
            else:
                low, a = a, b
                b = low + ratio * (high - low)
    best = max(seen, key=seen.get)
    return seen[best], best, float(np.mean(seconds))


def held_out(name: str, file: str) -> bool:
    return not file.endswith(TUNED_ON.get(name, ()))


def run_set(name: str, minutes: float, quick: bool, sections: set[str], work: Path,
            options: dict | None = None, camera: tuple | None = None,
            reuse: bool = False) -> dict:
    from aestudio.core.denoise.apply import denoise_tensor

    folder, pairs = photos(name, quick, work)
    rows: dict[str, dict] = {}
    per_photo: dict[str, dict[str, float]] = {file: {} for file, _, _ in pairs}
    for file, noisy, clean in pairs:
        per_photo[file]["noisy"] = psnr8(noisy, clean)
    if "self" in sections:
        model, info = train_self(folder, minutes, work / f"{name}-self.aemodel", options,
                                 reuse)
        seconds = []
        for file, noisy, clean in pairs:
            started = time.perf_counter()
            out = denoise_tensor(model, noisy)
            seconds.append(time.perf_counter() - started)
            per_photo[file]["self"] = psnr8(out, clean)
        rows["self"] = {**info, "seconds_per_photo": round(float(np.mean(seconds)), 3)}
    if camera is not None:
        model, info = camera
        seconds = []
        for file, noisy, clean in pairs:
            started = time.perf_counter()
            out = denoise_tensor(model, noisy)
            seconds.append(time.perf_counter() - started)
            per_photo[file]["camera"] = psnr8(out, clean)
        rows["camera"] = {**info, "seconds_per_photo": round(float(np.mean(seconds)), 3)}
    if "cbm3d" in sections:
        try:
            import bm3d  # noqa: F401
        except ImportError:
            print("[cbm3d] skipped: pip install bm3d", file=sys.stderr)
        else:
            seconds = []
            for file, noisy, clean in pairs:
                best, sigma, call_s = cbm3d_oracle(noisy, clean, quick)
                per_photo[file]["cbm3d"] = best
                per_photo[file]["cbm3d_sigma"] = sigma
                seconds.append(call_s)
                print(f"[cbm3d] {name}/{file}: {best:.2f} dB at sigma {sigma}",
                      file=sys.stderr, flush=True)
            rows["cbm3d"] = {"seconds_per_photo": round(float(np.mean(seconds)), 2)}
    methods = ["noisy", *(m for m in ("self", "camera", "cbm3d") if m in rows)]
    summary = {}
    for method in methods:
        every = [p[method] for p in per_photo.values()]
        kept = [p[method] for f, p in per_photo.items() if held_out(name, f)]
        summary[method] = {"psnr": round(float(np.mean(every)), 2),
                           "held_out_psnr": round(float(np.mean(kept)), 2) if kept else None,
                           **rows.get(method, {})}
    return {"set": name, "photos": len(pairs), "methods": summary, "per_photo": per_photo}


def table(results: list[dict]) -> str:
    lines = ["| set | method | PSNR (all) | PSNR (held out) | notes |", "|---|---|---|---|---|"]
    names = {"noisy": "noisy input", "self": "aestudio self-supervised (defaults)",
             "camera": "aestudio supervised, camera noise on CBSD68 (defaults)",
             "cbm3d": "CBM3D, oracle sigma"}
    for result in results:
        for method, row in result["methods"].items():
            notes = []
            if "steps" in row:
                spacing = f", spacing {row['spacing']}" if "spacing" in row else ""
                notes.append(f"{row['minutes']:g} min, {row['steps']} steps{spacing}")
            if "seconds_per_photo" in row:
                notes.append(f"{row['seconds_per_photo']} s per photo")
            lines.append(f"| {result['set']} | {names[method]} | {row['psnr']} | "
                         f"{row['held_out_psnr']} | {'; '.join(notes)} |")
        for method, value in PUBLISHED.get(result["set"], {}).items():
            lines.append(f"| {result['set']} | {method} (published) | {value} | | |")
    return "\n".join(lines)


def figures_of(results: list[dict]) -> dict[str, Figure]:
    figures = {}
    for result in results:
        m = result["methods"]
        key = result["set"].lower()
        if "self" in m:
            base = m.get("cbm3d", {}).get("psnr")
            figures[f"realnoise_{key}_self_psnr"] = Figure(
                m["self"]["psnr"], "dB",
                f"CBM3D oracle {base} dB, noisy {m['noisy']['psnr']} dB" if base else
                f"noisy {m['noisy']['psnr']} dB",
                "> CBM3D oracle and > noisy",
                f"held out {m['self']['held_out_psnr']} dB; spacing {m['self']['spacing']}")
            if base:
                figures[f"realnoise_{key}_self_minus_cbm3d_db"] = Figure(
                    round(m["self"]["psnr"] - base, 2), "dB", "CBM3D oracle", "> 0")
        if "camera" in m:
            base = m.get("cbm3d", {}).get("psnr")
            figures[f"realnoise_{key}_camera_psnr"] = Figure(
                m["camera"]["psnr"], "dB",
                f"CBM3D oracle {base} dB, noisy {m['noisy']['psnr']} dB" if base else
                f"noisy {m['noisy']['psnr']} dB", "> CBM3D oracle",
                f"held out {m['camera']['held_out_psnr']} dB; trained on CBSD68 only")
    return figures


def figures_from_saved(saved: dict) -> dict[str, Figure]:
    """The figures of a run saved with ``--json-out``, each noting when and how it ran."""
    return note_saved_run(figures_of(saved.get("results", [])), saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--sections", default="self,camera,cbm3d")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--reuse", action="store_true",
                        help="score the self-supervised models a previous run left in "
                             "build/bench/realnoise instead of training them again")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a model option for a tuned row (not the defaults), e.g. spacing=1")
    args = parser.parse_args(argv)
    if not (SHARED_DATA / "realnoise").is_dir():
        print("realnoise: skipped (../shared/data/realnoise is absent)", file=sys.stderr)
        print(json.dumps({}))
        return 0
    minutes = 0.05 if args.quick else args.minutes
    sections = set(args.sections.split(","))
    results = []
    camera = None
    work = WORK / "realnoise"  # the trained models stay here, to look at afterwards
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aestudio-realnoise-", dir=work) as tmp:
        for name in args.sets.split(","):
            options = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.option)}
            place = Path(tmp) if args.quick else work
            if "camera" in sections and camera is None:
                camera = train_camera(minutes, args.quick, place)
            results.append(run_set(name, minutes, args.quick, sections, place, options,
                                   camera, args.reuse and not args.quick))
    print(table(results), file=sys.stderr)
    if args.json_out:
        saved = {"mode": "quick" if args.quick else "full",
                 "date": datetime.date.today().isoformat(),
                 "command": "python -m benchmarks.realnoise_quality " + " ".join(argv or
                                                                                sys.argv[1:]),
                 "results": results}
        args.json_out.write_text(json.dumps(saved, indent=1))
    print_figures(figures_of(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
