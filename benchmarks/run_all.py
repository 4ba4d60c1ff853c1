"""Run every benchmark, write ``benchmarks/results.json`` and the table in ``docs/benchmarks.md``.

    python benchmarks/run_all.py [--quick] [--only NAME ...]

Each benchmark runs in its own process (a fresh interpreter, offscreen Qt) and prints its
figures as one JSON object on its last line of standard output.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
TABLE_START = "<!-- results:start -->"
TABLE_END = "<!-- results:end -->"

# The denoising quality run trains five models against time budgets (about an hour): a full
# ``make bench`` takes its figures from its last saved run unless --with-denoise-quality.
DENOISE_QUALITY_JSON = ROOT / "build" / "bench" / "denoise_quality.json"
# The long runs and where each saves its figures (the same holds for the real-noise run).
LONG = {"denoise_quality": DENOISE_QUALITY_JSON,
        "realnoise_quality": ROOT / "build" / "bench" / "realnoise_quality.json",
        "pretrained_quality": ROOT / "build" / "bench" / "pretrained_quality.json"}

# (module, what it measures); modules live in benchmarks/ and accept --quick.
BENCHMARKS = [
    ("bench_training", "trainer speed against a DataLoader loop and a bare loop"),
    ("bench_scan", "scanning and decoding a folder against a plain PIL loop"),
    ("bench_startup", "launch to visible main window"),
    ("bench_ui_stall", "event-loop stalls of the main window while training"),
    ("latent_map", "the 60,000-point latent map: draw, pan/zoom, click"),
    ("bench_denoise_speed", "24-megapixel denoise: time, memory, against non-local means"),
    ("latent_quality", "latent-map quality: 5-NN accuracy and PSNR over PCA-2"),
    ("denoise_quality", "denoising PSNR against BM3D and the published figures"),
    ("realnoise_quality", "real camera noise (CC15, SIDD5) against CBM3D and the noisy input"),
    ("pretrained_quality", "the bundled photo denoiser, with no training, against CBM3D"),
]


def run_one(module: str, quick: bool, timeout: float) -> tuple[dict, str | None]:
    script = ROOT / "benchmarks" / f"{module}.py"
    if not script.exists():
        return {}, "not present"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", f"benchmarks.{module}"] + (["--quick"] if quick else [])
    if module in LONG and not quick:
        command += ["--json-out", str(LONG[module])]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {timeout:.0f} s"
    sys.stderr.write(done.stderr[-4000:])
    lines = [line for line in done.stdout.strip().splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {}, f"failed (exit {done.returncode})"
    return json.loads(lines[-1]), None


def saved_long_run(module: str) -> tuple[dict, str | None]:
    """The figures of the last full run of a long benchmark, each noting when and how."""
    path = LONG[module]
    if not path.exists():
        return {}, (f"no saved run: python -m benchmarks.{module} --json-out "
                    f"{path.relative_to(ROOT)}, or --with-denoise-quality")
    if str(ROOT) not in sys.path:  # run as a script, the repository root is not on the path
        sys.path.insert(0, str(ROOT))
    import importlib

    saved = json.loads(path.read_text())
    if saved.get("mode") != "full":
        return {}, f"the saved {module} run is a quick one"
    figures_from_saved = importlib.import_module(f"benchmarks.{module}").figures_from_saved
    return {k: f.to_json() for k, f in figures_from_saved(saved).items()}, None


def write_table(results: dict) -> None:
    rows = ["| figure | value | unit | baseline | goal |", "|---|---|---|---|---|"]
    for name, entry in results["figures"].items():
        value = entry.get("value")
        shown = "n/a" if value is None else f"{value:.4g}"
        rows.append(f"| `{name}` | {shown} | {entry.get('unit', '')} | "
                    f"{entry.get('baseline') or ''} | {entry.get('goal') or ''} |")
    meta = results["meta"]
    table = "\n".join([
        TABLE_START,
        f"Measured {meta['date']} on {meta['machine']} ({meta['mode']} run).",
        "",
        *rows,
        TABLE_END,
    ])
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{TABLE_START}\n{TABLE_END}\n"
    before, _, rest = text.partition(TABLE_START)
    _, _, after = rest.partition(TABLE_END)
    DOC.write_text(before + table + after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds per figure (CI)")
    parser.add_argument("--only", nargs="*", help="run only these benchmark modules")
    parser.add_argument("--no-write", action="store_true", help="print, write no files")
    parser.add_argument("--with-denoise-quality", action="store_true",
                        help="rerun the denoising and real-noise quality benchmarks (about "
                             "two hours) instead of taking their figures from their last "
                             "saved full runs")
    args = parser.parse_args()
    figures: dict[str, dict] = {}
    failures: dict[str, str] = {}
    for module, _ in BENCHMARKS:
        if args.only and module not in args.only:
            continue
        started = time.perf_counter()
        print(f"== {module}", file=sys.stderr, flush=True)
        if module in LONG and not args.quick and not args.with_denoise_quality:
            result, error = saved_long_run(module)
            print("   from its last saved run" if not error else f"   {error}", file=sys.stderr)
            figures.update(result)
            if error:
                failures[module] = error
            continue
        result, error = run_one(module, args.quick, timeout=300 if args.quick else 7200)
        if error:
            failures[module] = error
            print(f"   {error}", file=sys.stderr)
        figures.update(result)
        print(f"   {time.perf_counter() - started:.1f} s", file=sys.stderr)
    results = {
        "meta": {
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "mode": "quick" if args.quick else "full",
            "failures": failures,
        },
        "figures": figures,
    }
    if not args.no_write:
        target = RESULTS if not args.quick else ROOT / "build" / "bench" / "results-quick.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(results, indent=2) + "\n")
        if not args.quick:
            write_table(results)
    print(json.dumps(results["figures"], indent=2))
    missing = [m for m, e in failures.items() if e != "not present"]
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
