"""Tests for aestudio.core.latent.interpolation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aestudio.core.latent.interpolation import INTERPOLATION_MODES, interpolate, lerp, slerp


def _vec(seed: int, d: int = 16) -> torch.Tensor:
    return torch.randn(d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("mode", INTERPOLATION_MODES)
def test_shape_and_exact_endpoints(mode: str) -> None:
    z0, z1 = _vec(0), 3 * _vec(1)
    path = interpolate(z0, z1, 7, mode=mode)
    assert path.shape == (7, 16) and path.dtype == torch.float32
    assert torch.equal(path[0], z0)
    assert torch.equal(path[-1], z1)


def test_lerp_is_evenly_spaced() -> None:
    z0, z1 = _vec(0), _vec(1)
    path = lerp(z0, z1, 5)
    assert torch.allclose(path[2], (z0 + z1) / 2, atol=1e-6)
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, steps[0].expand_as(steps), atol=1e-6)


def test_slerp_keeps_norm_for_equal_norm_endpoints() -> None:
    z0 = _vec(2, 64)
    z1 = _vec(3, 64)
    z1 = z1 * (z0.norm() / z1.norm())
    path = slerp(z0, z1, 11)
    assert torch.allclose(path.norm(dim=1), z0.norm().expand(11), rtol=1e-5)
    # A lerp path would sag toward the origin in the middle.
    assert lerp(z0, z1, 11)[5].norm() < 0.95 * z0.norm()


def test_slerp_turns_at_constant_angular_speed_and_scales_norm_linearly() -> None:
    z0 = torch.tensor([1.0, 0.0])
    z1 = torch.tensor([0.0, 3.0])
    path = slerp(z0, z1, 3)
    angle = math.atan2(path[1, 1].item(), path[1, 0].item())
    assert angle == pytest.approx(math.pi / 4, abs=1e-6)
    assert path[1].norm().item() == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize(
    ("z0", "z1"),
    [
        (torch.ones(8), torch.ones(8)),  # identical
        (torch.ones(8), -torch.ones(8)),  # opposite
        (torch.ones(8), -torch.ones(8) * (1 + 1e-9)),  # nearly opposite
        (torch.zeros(8), torch.ones(8)),  # zero start
        (torch.ones(8), torch.zeros(8)),  # zero end
        (torch.zeros(8), torch.zeros(8)),  # both zero
        (torch.tensor([1.0]), torch.tensor([-2.0])),  # opposite in 1-D
        (torch.ones(8), torch.ones(8) + 1e-7),  # tiny angle
    ],
)
@pytest.mark.parametrize("mode", INTERPOLATION_MODES)
def test_degenerate_inputs_give_no_nan(z0: torch.Tensor, z1: torch.Tensor, mode: str) -> None:
    path = interpolate(z0, z1, 9, mode=mode)
    assert torch.isfinite(path).all()
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)


def test_slerp_between_opposite_codes_keeps_norm() -> None:
    z0 = torch.tensor([1.0, 2.0, 2.0])
    path = slerp(z0, -z0, 9)
    assert torch.allclose(path.norm(dim=1), torch.full((9,), 3.0), atol=1e-5)
    # Halfway round, the code is orthogonal to both ends.
    assert abs(torch.dot(path[4], z0).item()) < 1e-4


def test_accepts_numpy_rows_and_keeps_float64() -> None:
    z0 = np.zeros((1, 4))
    z1 = np.ones((1, 4))
    path = slerp(z0, z1, 3)
    assert path.shape == (3, 4) and path.dtype == torch.float64
    assert lerp([0, 0], [2, 4], 3).tolist() == [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]]


def test_bad_arguments_raise() -> None:
    z = torch.zeros(4)
    with pytest.raises(ValueError, match="unknown interpolation mode 'cubic'"):
        interpolate(z, z, 3, mode="cubic")
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        interpolate(z, z, 1)
    with pytest.raises(ValueError, match="steps"):
        lerp(z, z, 2.5)
    with pytest.raises(ValueError, match="differ in shape"):
        slerp(z, torch.zeros(5), 3)
