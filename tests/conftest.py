"""Shared fixtures: tiny image folders made on the fly (tests never need ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Keep the decoded-image cache of tests out of the user's home.
os.environ.setdefault("AESTUDIO_CACHE_DIR", str(Path(__file__).parent / ".." / "build" / "cache"))

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def make_digit_folder(root: Path, per_label: int = 12, size: int = 16, labels: int = 2,
                      seed: int = 0) -> Path:
    """A folder of tiny gray images in label subfolders: bright squares or bars on dark."""
    rng = np.random.default_rng(seed)
    for label in range(labels):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_label):
            image = rng.integers(0, 40, (size, size), dtype=np.uint8)
            o = int(rng.integers(1, 4))
            if label == 0:
                image[o:o + size // 2, o:o + size // 2] = 220
            else:
                image[:, o + size // 3:o + size // 3 + 3] = 230
            Image.fromarray(image).save(folder / f"{i}.png")
    return root


@pytest.fixture
def digit_folder(tmp_path: Path) -> Path:
    return make_digit_folder(tmp_path / "digits")


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """Three small RGB 'photos' with smooth gradients and edges, for denoiser tests."""
    rng = np.random.default_rng(1)
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(3):
        h, w = 48 + 8 * i, 56
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([x / w, y / h, (x + y) / (w + h)], axis=-1)
        base[h // 3:h // 2, w // 4:w // 2] = rng.random(3)
        Image.fromarray((base * 255).astype(np.uint8)).save(root / f"photo{i}.png")
    return root
