"""How noisy a photo is, and whether its noise is spread over neighbouring pixels.

The estimate looks only at the photo itself. It cuts the image into 8x8 blocks, removes
each block's best-fitting plane (so smooth gradients do not count as noise) and keeps the
flattest blocks at each brightness, where what is left is mostly noise. From those it reads

- the noise level (standard deviation on the 0-255 scale), overall and per brightness, as
  camera noise grows with the light;
- the correlation of the noise between pixels 1, 2, 3 and 4 apart. White noise (what
  synthetic Gaussian noise is, and what the sensor itself adds) has none; demosaicing, the
  camera's processing and JPEG spread noise over neighbours, which makes it correlated.

Self-supervised training uses the correlation to choose how far apart the pixels it
compares must be (:func:`spacing_for`); the Denoise tab and ``aestudio noise`` show the
level. Numpy only: it runs before torch is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK = 16
MIN_SIDE = 4 * BLOCK
LAGS = (1, 2, 3, 4)
# Correlation below this counts as independent noise (white noise on 8x8 blocks with their
# plane removed reads about -0.03).
INDEPENDENT_BELOW = 0.15
MAX_SPACING = 4
# The flattest fraction of blocks in each brightness band is taken to hold only noise.
FLAT_FRACTION = 0.1
BANDS = 8
# Blocks this close to black or white are left out: clipping hides their noise.
CLIPPED_MARGIN = 0.03
MIN_BLOCKS = 16


@dataclass(frozen=True)
class NoiseEstimate:
    """What :func:`estimate_noise` found.

    Attributes
    ----------
    sigma : float
        Noise standard deviation on the 0-255 scale (the median over brightness bands).
    by_brightness : tuple of (float, float)
        ``(brightness 0-1, sigma 0-255)`` per band with enough flat blocks.
    correlation : tuple of float
        Correlation of the noise between pixels 1, 2, 3 and 4 apart (rows and columns
        averaged), from 16x16 blocks; about 0 for white noise.
    neighbours : float
        Correlation between adjacent pixels from 8x8 blocks: less swayed by texture in
        nearly clean photos, so it decides whether the noise is correlated at all.
    blocks : int
        Flat blocks the figures come from.
    """

    sigma: float
    by_brightness: tuple[tuple[float, float], ...]
    correlation: tuple[float, ...]
    neighbours: float
    blocks: int

    @property
    def correlated(self) -> bool:
        """True when neighbouring pixels share their noise."""
        return self.neighbours >= INDEPENDENT_BELOW

    @property
    def spacing(self) -> int:
        """How far apart two pixels must be for their noise to be independent (1-4)."""
        return spacing_for(self)

    def describe(self) -> str:
        """One line for people, e.g. ``"noise about 6.2/255, spread over neighbouring
        pixels (correlation 0.48)"``."""
        how = "spread over neighbouring pixels" if self.correlated else \
            "independent from pixel to pixel"
        return f"noise about {self.sigma:.1f}/255, {how} (correlation {self.neighbours:.2f})"


def _plane_basis(size: int) -> np.ndarray:
    """An orthonormal basis (3, size*size) of the planes a + b*x + c*y over a block."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    basis = np.stack([np.ones(size * size), x.ravel() - x.mean(), y.ravel() - y.mean()])
    return basis / np.linalg.norm(basis, axis=1, keepdims=True)


def _chi2_fraction(p: float, dof: int) -> float:
    """The p-quantile of chi-squared(dof) / dof (Wilson-Hilferty): how low the flattest
    blocks' variance reads when the blocks hold only noise."""
    z = math.sqrt(2.0) * _erfinv(2 * p - 1)
    a = 2.0 / (9.0 * dof)
    return (1 - a + z * math.sqrt(a)) ** 3


def _erfinv(y: float) -> float:
    # Newton steps on math.erf from a rational first guess (Winitzki's approximation).
    a = 0.147
    ln = math.log(1 - y * y)
    first = 2 / (math.pi * a) + ln / 2
    x = math.copysign(math.sqrt(math.sqrt(first * first - ln / a) - first), y)
    for _ in range(3):
        x -= (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def _blocks(channel: np.ndarray, size: int) -> np.ndarray:
    """(n, size, size) blocks of a 2-D array, cropped to whole blocks."""
    h, w = (s - s % size for s in channel.shape)
    tiles = channel[:h, :w].reshape(h // size, size, w // size, size)
    return tiles.transpose(0, 2, 1, 3).reshape(-1, size, size)


def _flat_blocks(array: np.ndarray, size: int) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Per brightness band, (brightness, sigma 0-255) from its flattest blocks, and those
    blocks' residuals after removing their planes, (n, C, size, size)."""
    basis = _plane_basis(size)
    dof = size * size - len(basis)
    brightness = _blocks(array.mean(axis=2), size).mean(axis=(1, 2))
    residuals, variances = [], []
    for c in range(array.shape[2]):
        blocks = _blocks(array[..., c], size).reshape(-1, size * size)
        flat = blocks - (blocks @ basis.T) @ basis
        residuals.append(flat.reshape(-1, size, size))
        variances.append((flat**2).sum(axis=1) / dof)
    variance = np.mean(variances, axis=0)  # per block, over channels
    residual = np.stack(residuals, axis=1)
    # Taking the flattest tenth reads low by a known factor when the blocks hold only noise.
    scale = _chi2_fraction(FLAT_FRACTION / 2, array.shape[2] * dof)
    usable = (brightness > CLIPPED_MARGIN) & (brightness < 1 - CLIPPED_MARGIN)
    if usable.sum() < MIN_BLOCKS:  # nearly black and white: use what there is
        usable = np.ones_like(usable)
    edges = np.linspace(0, 1, BANDS + 1)
    bands = [np.flatnonzero(usable & (brightness >= low) & (brightness < high))
             for low, high in zip(edges[:-1], edges[1:], strict=True)]
    bands = [band for band in bands if len(band) >= MIN_BLOCKS] or [np.flatnonzero(usable)]
    chosen, levels = [], []
    for band in bands:
        keep = band[np.argsort(variance[band])[: max(4, int(len(band) * FLAT_FRACTION))]]
        chosen.append(keep)
        sigma = math.sqrt(float(np.median(variance[keep])) / scale) * 255
        levels.append((round(float(brightness[keep].mean()), 3), round(sigma, 2)))
    return levels, residual[np.concatenate(chosen)]


def _correlation(residual: np.ndarray, lag: int) -> float:
    """Correlation between pixels ``lag`` apart (rows and columns) in plane-free blocks."""
    size = residual.shape[-1]
    energy = float((residual**2).sum()) or 1.0
    across = (residual[..., :, lag:] * residual[..., :, :-lag]).sum()
    down = (residual[..., lag:, :] * residual[..., :-lag, :]).sum()
    # Each product sum covers (size - lag) / size of the pixels that the energy covers.
    return round(float((across + down) / 2 / energy * size / (size - lag)), 3)


def estimate_noise(image: np.ndarray) -> NoiseEstimate:
    """Estimate the noise of one image from the image alone.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W) or (H, W, C) with values in [0, 1] (floats) or integers of any bit depth
        (scaled by their dtype's maximum). At least 64x64 pixels.

    Returns
    -------
    NoiseEstimate

    Raises
    ------
    ValueError
        When the image is too small to hold enough blocks.
    """
    array = np.asarray(image)
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float64) / np.iinfo(array.dtype).max
    else:
        array = array.astype(np.float64)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or min(array.shape[:2]) < MIN_SIDE:
        raise ValueError(f"noise estimation needs an image of at least {MIN_SIDE}x{MIN_SIDE} "
                         f"pixels; got {'x'.join(map(str, array.shape[:2]))}")
    array = array[..., :3] if array.shape[2] >= 3 else array[..., :1]
    # Large blocks read the level and the reach of the correlation; small ones, which hold
    # less texture in their flattest tenth, whether neighbours correlate at all.
    levels, wide = _flat_blocks(array, BLOCK)
    _, narrow = _flat_blocks(array, BLOCK // 2)
    return NoiseEstimate(
        sigma=round(float(np.median([s for _, s in levels])), 2),
        by_brightness=tuple(levels),
        correlation=tuple(_correlation(wide, lag) for lag in LAGS),
        neighbours=_correlation(narrow, 1),
        blocks=len(wide),
    )


def spacing_for(estimate: NoiseEstimate) -> int:
    """How far apart two pixels must be for their noise to be independent: 1 for
    uncorrelated noise, else the smallest of 2-4 whose correlation is below
    :data:`INDEPENDENT_BELOW` (4 when none is)."""
    if not estimate.correlated:
        return 1
    for lag, value in zip(LAGS[1:], estimate.correlation[1:], strict=True):
        if value < INDEPENDENT_BELOW:
            return lag
    return MAX_SPACING


def estimate_images(images: list[np.ndarray], limit: int = 16) -> NoiseEstimate:
    """One estimate for a set of images (up to ``limit`` of them, evenly spread): the medians
    of their levels and correlations.

    Parameters
    ----------
    images : list of numpy.ndarray
        As :func:`estimate_noise` takes them; images under 64x64 are skipped.
    limit : int
        The most images to look at.

    Raises
    ------
    ValueError
        When no image is large enough.
    """
    step = max(1, len(images) // limit)
    found = []
    for image in images[::step][:limit]:
        try:
            found.append(estimate_noise(image))
        except ValueError:
            continue
    if not found:
        raise ValueError(f"noise estimation needs images of at least {4 * BLOCK}x{4 * BLOCK} "
                         "pixels")
    correlation = tuple(round(float(np.median([e.correlation[i] for e in found])), 3)
                        for i in range(len(LAGS)))
    levels = sorted(level for e in found for level in e.by_brightness)
    return NoiseEstimate(sigma=round(float(np.median([e.sigma for e in found])), 2),
                         by_brightness=tuple(levels), correlation=correlation,
                         neighbours=round(float(np.median([e.neighbours for e in found])), 3),
                         blocks=sum(e.blocks for e in found))


def estimate_photo(image: np.ndarray, side: int = 1024) -> NoiseEstimate | None:
    """The estimate of a photo of any size from its centre ``side`` x ``side`` pixels (noise
    is read at full resolution, so a crop, not a reduction), or None when it is too small.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W) or (H, W, C), as :func:`estimate_noise` takes it.
    side : int
        The largest crop looked at.
    """
    h, w = image.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    try:
        return estimate_noise(image[top:top + side, left:left + side])
    except ValueError:
        return None


def describe_levels(estimate: NoiseEstimate) -> str:
    """The level per brightness in words, e.g. ``"dark 2.1, mid 3.4, bright 5.0 (/255)"``."""
    levels = estimate.by_brightness
    if len(levels) < 2:
        return f"{estimate.sigma:.1f}/255 at every brightness measured"
    names = ("dark", "mid", "bright")
    picks = [levels[0], levels[len(levels) // 2], levels[-1]] if len(levels) >= 3 else \
        [levels[0], levels[-1]]
    words = names if len(picks) == 3 else ("dark", "bright")
    return ", ".join(f"{n} {s:.1f}" for n, (_, s) in zip(words, picks, strict=True)) + " (/255)"
