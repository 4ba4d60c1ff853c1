"""The torch-free mix: one formula for arrays (channels last) and tensors (channels first)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from aestudio.core.denoise.apply import mix_denoised
from aestudio.core.denoise.mix import mix, quantize, residual


def test_arrays_and_tensors_mix_alike() -> None:
    rng = np.random.default_rng(0)
    noisy = rng.random((6, 7, 3), dtype=np.float32)
    denoised = rng.random((6, 7, 3), dtype=np.float32)
    out = mix(noisy, denoised, amount=0.7, luma=0.2, chroma=0.9)
    tensor = mix_denoised(torch.from_numpy(noisy).permute(2, 0, 1),
                          torch.from_numpy(denoised).permute(2, 0, 1),
                          amount=0.7, luma=0.2, chroma=0.9)
    assert out.dtype == np.float32 and isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, tensor.permute(1, 2, 0).numpy(), atol=1e-6)
    assert mix(noisy, denoised) is denoised
    with pytest.raises(ValueError, match="amount"):
        mix(noisy, denoised, amount=2.0)
    with pytest.raises(ValueError, match="shapes"):
        mix(noisy, denoised[:3])


def test_residual_and_quantize() -> None:
    noisy = np.full((2, 2, 1), 0.6, np.float32)
    out = np.full((2, 2, 1), 0.5, np.float32)
    np.testing.assert_allclose(residual(noisy, out, 3.0), 0.8, atol=1e-6)
    assert residual(noisy, noisy, 5.0).max() == 0.5
    assert quantize(np.array([0.5, 1.2, -1.0]))[0] == pytest.approx(128 / 255)
    assert quantize(np.array([0.5]), 16)[0] == pytest.approx(32768 / 65535)


def test_the_preview_modules_do_not_import_torch() -> None:
    code = ("import sys, aestudio.core.denoise.mix, aestudio.core.denoise.regions, "
            "aestudio.core.denoise.preview, aestudio.core.data.noise_syntax; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
