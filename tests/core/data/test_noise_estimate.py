"""The noise estimate: level, level per brightness and correlation, on images of known noise."""

from __future__ import annotations

import numpy as np
import pytest

from aestudio.core.data.noise_estimate import estimate_images, estimate_noise, spacing_for


def scene(size: int = 256, channels: int = 3) -> np.ndarray:
    """A smooth picture: gradients, a disc and a few flat regions, values in [0.1, 0.9]."""
    y, x = np.mgrid[0:size, 0:size] / size
    base = 0.1 + 0.6 * x + 0.2 * np.sin(3 * y)
    base[(x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.05] = 0.8
    base[: size // 4, : size // 4] = 0.3
    image = np.stack([base * (0.8 + 0.1 * c) for c in range(channels)], axis=-1)
    return np.clip(image, 0.1, 0.9)


def box_blurred(noise: np.ndarray) -> np.ndarray:
    """Noise spread over each pixel's 3x3 neighbourhood, as demosaicing spreads it."""
    padded = np.pad(noise, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    h, w = noise.shape[:2]
    out = sum(padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) / 9
    return out / out.std()


@pytest.mark.parametrize("sigma", [5, 10, 25])
def test_white_noise_level_is_found_and_called_independent(sigma: int) -> None:
    rng = np.random.default_rng(sigma)
    clean = scene()
    estimate = estimate_noise(clean + rng.normal(0, sigma / 255, clean.shape))
    assert estimate.sigma == pytest.approx(sigma, rel=0.2)
    assert not estimate.correlated
    assert abs(estimate.neighbours) < 0.1
    assert spacing_for(estimate) == 1 == estimate.spacing
    assert "independent" in estimate.describe()


def test_correlated_noise_is_called_correlated_and_needs_spacing() -> None:
    rng = np.random.default_rng(1)
    clean = scene()
    noise = box_blurred(rng.normal(0, 1, clean.shape)) * 10 / 255
    estimate = estimate_noise(clean + noise)
    assert estimate.correlated
    assert estimate.neighbours > 0.4
    assert estimate.correlation[0] > estimate.correlation[2]  # it fades with distance
    assert 2 <= estimate.spacing <= 4
    assert "spread over neighbouring pixels" in estimate.describe()


def test_noise_that_grows_with_brightness_reads_higher_in_bright_bands() -> None:
    rng = np.random.default_rng(2)
    clean = scene(channels=1)
    noisy = clean + rng.normal(0, 1, clean.shape) * (2 + 30 * clean) / 255  # shot-like
    levels = estimate_noise(noisy).by_brightness
    assert len(levels) >= 3
    dark, bright = levels[0], levels[-1]
    assert dark[0] < bright[0]
    assert bright[1] > 2 * dark[1]


def test_integer_images_are_scaled_by_their_bit_depth() -> None:
    rng = np.random.default_rng(3)
    noisy = np.clip(scene() + rng.normal(0, 10 / 255, (256, 256, 3)), 0, 1)
    as8 = estimate_noise(np.round(noisy * 255).astype(np.uint8))
    as16 = estimate_noise(np.round(noisy * 65535).astype(np.uint16))
    assert as8.sigma == pytest.approx(10, rel=0.2)
    assert as16.sigma == pytest.approx(as8.sigma, rel=0.05)


def test_small_images_are_refused_with_the_size_needed() -> None:
    with pytest.raises(ValueError, match="at least 64x64"):
        estimate_noise(np.zeros((32, 300)))
    with pytest.raises(ValueError, match="at least"):
        estimate_images([np.zeros((16, 16))])


def test_a_set_of_images_gives_the_median_estimate() -> None:
    rng = np.random.default_rng(4)
    images = [scene() + rng.normal(0, s / 255, (256, 256, 3)) for s in (8, 10, 12)]
    assert estimate_images(images).sigma == pytest.approx(10, rel=0.2)
