"""Tests for aestudio.core.evaluation.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aestudio.core.evaluation.metrics import psnr, psnr_per_image, ssim, ssim_per_image

RNG = np.random.default_rng(1234)


def _naive_ssim(x: np.ndarray, y: np.ndarray, data_range: float = 1.0) -> float:
    """Direct window-by-window SSIM of one 2-D image, as written in Wang et al. 2004."""
    size, sigma = 11, 1.5
    coords = np.arange(size) - size // 2
    g = np.exp(-0.5 * (coords / sigma) ** 2)
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    scores = []
    for i in range(x.shape[0] - size + 1):
        for j in range(x.shape[1] - size + 1):
            px, py = x[i : i + size, j : j + size], y[i : i + size, j : j + size]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
            cxy = (w * (px - mx) * (py - my)).sum()
            scores.append(
                ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
            )
    return float(np.mean(scores))


# --- PSNR ---------------------------------------------------------------------------------


def test_psnr_of_known_mse() -> None:
    ref = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    out = torch.full((1, 3, 8, 8), 0.1, dtype=torch.float64)  # MSE 0.01 -> 20 dB
    assert psnr(out, ref) == pytest.approx(20.0, abs=1e-9)


def test_psnr_on_8bit_scale_without_wraparound() -> None:
    ref = np.zeros((8, 8, 3), dtype=np.uint8)
    out = np.full((8, 8, 3), 5, dtype=np.uint8)
    assert psnr(out, ref, data_range=255) == pytest.approx(10 * math.log10(255**2 / 25))
    # uint8 subtraction would wrap 0 - 5 to 251; the metric must not.
    assert psnr(ref, out, data_range=255) == pytest.approx(psnr(out, ref, data_range=255))


def test_psnr_is_mean_of_per_image_values() -> None:
    ref = torch.zeros(2, 1, 4, 4)
    out = torch.stack([torch.full((1, 4, 4), 0.1), torch.full((1, 4, 4), 0.01)])
    per_image = psnr_per_image(out, ref)
    assert isinstance(per_image, np.ndarray) and per_image.shape == (2,)
    np.testing.assert_allclose(per_image, [20.0, 40.0])
    assert psnr(out, ref) == pytest.approx(30.0)


def test_psnr_identical_is_infinite() -> None:
    x = torch.rand(1, 3, 8, 8)
    assert psnr(x, x) == math.inf


def test_numpy_hwc_and_torch_nchw_agree() -> None:
    ref = RNG.random((24, 20, 3))
    out = np.clip(ref + RNG.normal(0, 0.05, ref.shape), 0, 1)
    t_ref = torch.from_numpy(ref).permute(2, 0, 1)[None].float()
    t_out = torch.from_numpy(out).permute(2, 0, 1)[None].float()
    assert psnr(out, ref) == pytest.approx(psnr(t_out, t_ref), rel=1e-5)
    assert ssim(out, ref) == pytest.approx(ssim(t_out, t_ref), abs=1e-6)
    # 3-D torch tensors are (C, H, W); mixing array types is fine.
    assert ssim(t_out[0], ref) == pytest.approx(ssim(out, ref), abs=1e-6)


def test_shape_mismatch_and_bad_range_raise() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))
    with pytest.raises(ValueError, match="data_range"):
        psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), data_range=0)
    with pytest.raises(TypeError):
        psnr([[0.0]], [[0.0]])


# --- SSIM ---------------------------------------------------------------------------------


def test_ssim_identical_is_one() -> None:
    x = torch.rand(2, 3, 32, 32)
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-12)


def test_ssim_of_constant_images_has_closed_form() -> None:
    a, b = 0.2, 0.7
    c1 = 0.01**2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)  # no variance: contrast term is 1
    x = torch.full((1, 1, 16, 16), a, dtype=torch.float64)
    y = torch.full((1, 1, 16, 16), b, dtype=torch.float64)
    assert ssim(x, y) == pytest.approx(expected, abs=1e-9)


def test_ssim_matches_window_by_window_definition() -> None:
    x = RNG.random((17, 15))
    y = np.clip(x + RNG.normal(0, 0.1, x.shape), 0, 1)
    assert ssim(x, y) == pytest.approx(_naive_ssim(x, y), abs=1e-10)


def test_ssim_range_symmetry_and_ordering() -> None:
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    slightly = (x + 0.02 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    very = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    s1, s2 = ssim(slightly, x), ssim(very, x)
    assert 1.0 > s1 > s2 > -1.0
    assert ssim(x, slightly) == pytest.approx(s1, abs=1e-12)
    inverted = ssim(1 - x, x)
    assert -1.0 <= inverted < 0


def test_ssim_per_image_and_data_range() -> None:
    x = torch.rand(3, 1, 16, 16)
    y = (x + 0.05).clamp(0, 1)
    per_image = ssim_per_image(y, x)
    assert per_image.shape == (3,)
    assert ssim(y, x) == pytest.approx(per_image.mean())
    assert ssim(y * 255, x * 255, data_range=255) == pytest.approx(ssim(y, x), abs=1e-9)


def test_ssim_rejects_images_smaller_than_window() -> None:
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.zeros(1, 1, 10, 40), torch.zeros(1, 1, 10, 40))


def _pattern() -> tuple[np.ndarray, np.ndarray]:
    i, j, c = np.meshgrid(np.arange(24), np.arange(20), np.arange(3), indexing="ij")
    x = 0.5 + 0.4 * np.sin(0.3 * i + 0.7 * j + c)
    y = np.clip(x + 0.15 * np.cos(1.3 * i * j + 2.0 * c), 0, 1)
    return x, y


def test_ssim_matches_recorded_scikit_image_values() -> None:
    # Recorded with scikit-image 0.26: structural_similarity(y, x, gaussian_weights=True,
    # sigma=1.5, use_sample_covariance=False, data_range=1[, channel_axis=-1]).
    x, y = _pattern()
    assert ssim(y, x) == pytest.approx(0.9129314297786721, abs=1e-12)
    assert ssim(y[..., 0], x[..., 0]) == pytest.approx(0.9143532027654231, abs=1e-12)


def test_ssim_matches_scikit_image() -> None:
    metrics = pytest.importorskip("skimage.metrics")
    x = RNG.random((40, 33, 3))
    y = np.clip(x + RNG.normal(0, 0.1, x.shape), 0, 1)
    expected = metrics.structural_similarity(
        y,
        x,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1,
        channel_axis=-1,
    )
    assert ssim(y, x) == pytest.approx(expected, abs=1e-7)
