"""Scanning, decoding and caching a folder of PNGs against a plain PIL loop.

- ``scan_speedup_vs_pil_loop``: a plain loop (``Image.open(p).convert("L")`` -> numpy, stacked)
  over the app's ``load_training_data`` with an empty decode cache (scan every header,
  report bad files, decode, write the cache).
- ``scan_cached_speedup_vs_pil_loop``: the same, the second time (served from the cache).

Both run after one untimed pass, so the files are in the OS cache for both.

    python -m benchmarks.bench_scan [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import Figure, mnist_folder, print_figures, timed


def pil_loop(folder: Path) -> np.ndarray:
    paths = sorted(folder.rglob("*.png"))
    return np.stack([np.asarray(Image.open(p).convert("L")) for p in paths])


def app_load(folder: Path, cache_dir: Path):
    from aestudio.core.config import DataConfig
    from aestudio.core.data.training_data import load_training_data

    return load_training_data(DataConfig(folder=str(folder), size=28), patches=False,
                              cache_dir=cache_dir)


def run(quick: bool = False) -> dict[str, Figure]:
    import aestudio.core.data.training_data  # noqa: F401  (import torch before timing)

    count = 1_000 if quick else 10_000
    folder = mnist_folder(count)
    pil_loop(folder)  # warm the OS file cache
    baseline, pil_s = timed(pil_loop, folder)
    cache_dir = Path(tempfile.mkdtemp(prefix="aestudio-bench-cache-"))
    try:
        data, cold_s = timed(app_load, folder, cache_dir)
        _, warm_s = timed(app_load, folder, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    assert len(data.images) == len(baseline)
    base = f"{pil_s:.2f} s plain PIL loop over {count} PNGs"
    return {
        "scan_speedup_vs_pil_loop": Figure(pil_s / cold_s, "x", base, ">= 1",
                                           note=f"app {cold_s:.2f} s, empty cache"),
        "scan_cached_speedup_vs_pil_loop": Figure(pil_s / warm_s, "x", base, "report",
                                                  note=f"app {warm_s:.3f} s, from the cache"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_figures(run(parser.parse_args().quick))
