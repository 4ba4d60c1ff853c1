"""The bundled ``photo`` denoiser: listed, named wherever a model file is accepted, and good."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aestudio.cli import main
from aestudio.core.io.read import read_image
from aestudio.core.models.bundled import bundled_models, resolve_model_path

pytestmark = pytest.mark.skipif(not bundled_models(), reason="no bundled model in this tree")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@pytest.fixture
def noisy_photo(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A smooth colour scene with edges, Gaussian noise of sigma 25 clipped to 8 bits."""
    y, x = np.mgrid[0:96, 0:128].astype(np.float64)
    clean = np.stack([80 + 100 * x / 128, 60 + 120 * y / 96, 150 - 60 * x / 128], axis=-1)
    clean[20:60, 30:80] = [200, 60, 40]  # a flat object with sharp edges
    noisy = clean + np.random.default_rng(0).normal(0, 25, clean.shape)
    path = tmp_path / "noisy.png"
    Image.fromarray(np.clip(np.round(noisy), 0, 255).astype(np.uint8)).save(path)
    return path, np.round(clean).astype(np.uint8)


def test_the_name_photo_is_the_bundled_file_unless_a_file_of_that_name_exists(
        tmp_path: Path, monkeypatch) -> None:
    photo = resolve_model_path("photo")
    assert photo.is_file() and photo.suffix == ".aemodel"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo").write_bytes(b"a user's own file")
    assert resolve_model_path("photo") == Path("photo")
    assert resolve_model_path("no-such-name") == Path("no-such-name")


def test_models_lists_the_bundled_models(capsys) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("photo") and "denoiser" in out
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed] == ["photo"] and Path(listed[0]["path"]).is_file()


def test_info_accepts_the_name(capsys) -> None:
    assert main(["info", "photo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["architecture"] == "denoiser"


def test_denoise_photo_removes_noise_with_no_training(noisy_photo, tmp_path: Path) -> None:
    path, clean = noisy_photo
    assert main(["denoise", "photo", str(path), "--out", str(tmp_path / "out")]) == 0
    denoised, _ = read_image(tmp_path / "out" / "noisy.png")
    noisy, _ = read_image(path)
    assert denoised.shape == clean.shape
    assert _psnr(np.asarray(denoised), clean) > _psnr(np.asarray(noisy), clean) + 6


def test_strength_changes_the_output_monotonically(noisy_photo, tmp_path: Path) -> None:
    path, _ = noisy_photo
    noisy = np.asarray(read_image(path)[0], dtype=np.float64)
    changes = []
    for amount in (0.0, 0.25, 0.5, 1.0):
        out = tmp_path / f"a{amount}"
        assert main(["denoise", "photo", str(path), "--out", str(out),
                     "--amount", str(amount)]) == 0
        changes.append(np.abs(np.asarray(read_image(out / "noisy.png")[0]) - noisy).mean())
    assert changes[0] < 0.5  # amount 0 keeps the input
    assert all(a < b for a, b in zip(changes, changes[1:], strict=False))
