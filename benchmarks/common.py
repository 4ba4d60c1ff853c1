"""Shared pieces of the benchmarks: data folders, figures, timing helpers."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / "build" / "bench"


@dataclass
class Figure:
    """One row of results.json: a value, its unit, the baseline it was compared with, the goal."""

    value: float | None
    unit: str
    baseline: str | None = None
    goal: str | None = None
    note: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "value"}


def note_saved_run(figures: dict[str, Figure], saved: dict) -> dict[str, Figure]:
    """``figures`` of a run saved with ``--json-out``, each noting when and how it ran."""
    for figure in figures.values():
        figure.note = f"run of {saved.get('date')}: {saved.get('command')}; {figure.note or ''}"
    return figures


def mnist_folder(count: int, *, size: int = 28) -> Path:
    """A folder of ``count`` MNIST digits as PNGs in label subfolders (made once).

    Falls back to synthetic digits-like images when the shared data is absent.
    """
    from PIL import Image

    source = SHARED_DATA / "mnist" / "train.npz"
    kind = "mnist" if source.exists() else "synthetic"
    folder = WORK / f"{kind}-{count}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    if kind == "mnist":
        data = np.load(source)
        images, labels = data["images"][:count], data["labels"][:count]
    else:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 40, (count, size, size), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 4 + label: 10 + label, 6:22] = 230
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target / f"{i}.png")
    marker.touch()
    return folder


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def print_figures(figures: dict[str, Figure]) -> None:
    for name, figure in figures.items():
        value = "n/a" if figure.value is None else f"{figure.value:.4g}"
        goal = f" (goal {figure.goal})" if figure.goal else ""
        print(f"{name:32} {value} {figure.unit}{goal}", file=sys.stderr)
    print(json.dumps({name: f.to_json() for name, f in figures.items()}))


def cores() -> int:
    return os.cpu_count() or 1
