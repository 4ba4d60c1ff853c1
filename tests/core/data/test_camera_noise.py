"""The camera-noise synthesis: noise that grows with the light, spread over neighbours,
values in range; and the ``camera`` spec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aestudio.core.data.camera_noise import (
    bayer_masks,
    camera_noise,
    demosaic,
    linear_to_srgb,
    srgb_to_linear,
)
from aestudio.core.data.noise import parse_noise
from aestudio.core.data.noise_estimate import estimate_noise


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_the_srgb_curve_round_trips() -> None:
    x = torch.linspace(0, 1, 101)
    assert torch.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-5)


def test_the_mosaic_has_one_colour_per_pixel_and_demosaicing_keeps_flat_colour() -> None:
    masks = bayer_masks(6, 8, (1, 0))
    assert torch.equal(masks.sum(0), torch.ones(6, 8))
    assert masks[1].mean() == 0.5  # half the sites are green
    flat = torch.tensor([0.2, 0.5, 0.7])[None, :, None, None].expand(1, 3, 6, 8)
    mosaic = (flat * masks[None]).sum(1, keepdim=True)
    assert torch.allclose(demosaic(mosaic, masks), flat, atol=1e-6)


def test_values_stay_in_range_and_shapes_and_dtypes_are_kept() -> None:
    x = torch.rand(3, 3, 32, 40)
    y = camera_noise(x, 2.0, _gen())
    assert y.shape == x.shape and y.dtype == x.dtype
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    gray = camera_noise(torch.rand(2, 1, 32, 32), 1.0, _gen())
    assert gray.shape == (2, 1, 32, 32)


def test_the_same_seed_gives_the_same_camera() -> None:
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(camera_noise(x, 1.0, _gen(5)), camera_noise(x, 1.0, _gen(5)))
    assert not torch.equal(camera_noise(x, 1.0, _gen(5)), camera_noise(x, 1.0, _gen(6)))


def test_noise_grows_with_brightness_in_linear_light() -> None:
    # Three bands of one photo (one camera), with headroom below white so that clipping
    # does not hide the noise; shot noise grows with the light the sensor counted.
    x = torch.cat([torch.full((1, 3, 64, 192), v) for v in (0.1, 0.3, 0.6)], dim=2)
    variances = []
    for seed in range(6):
        d = srgb_to_linear(camera_noise(x, 1.0, _gen(seed))) - srgb_to_linear(x)
        variances.append(torch.stack([d[..., 64 * b + 8:64 * b + 56, 8:-8].var()
                                      for b in range(3)]))
    variance = torch.stack(variances).mean(0)
    assert variance[0] < variance[1] < variance[2]


def test_neighbouring_pixels_correlate_after_demosaicing() -> None:
    y, x = np.mgrid[0:256, 0:256] / 256
    clean = torch.from_numpy(np.stack([0.3 + 0.3 * x, 0.4 + 0.2 * y, 0.35 + 0.1 * x * y])
                             .astype(np.float32))[None]
    noisy = camera_noise(clean, 2.0, _gen(1))
    d = (noisy - clean)[0].numpy()
    d = d - d.mean(axis=(1, 2), keepdims=True)
    lag1 = float((d[:, :, 1:] * d[:, :, :-1]).mean() / (d**2).mean())
    lag4 = float((d[:, :, 4:] * d[:, :, :-4]).mean() / (d**2).mean())
    assert lag1 > 0.3
    assert lag4 < lag1 / 2
    assert estimate_noise(noisy[0].permute(1, 2, 0).numpy()).correlated


def test_the_camera_spec_parses_with_or_without_its_strength() -> None:
    assert str(parse_noise("camera")) == "camera:1"
    assert parse_noise("camera:1.5").params == (1.5,)
    assert "Camera noise" in parse_noise("camera").describe()
    with pytest.raises(ValueError, match="STRENGTH must be between"):
        parse_noise("camera:9")
    out = parse_noise("camera:0.5").apply(torch.rand(3, 16, 16), _gen())
    assert out.shape == (3, 16, 16)
