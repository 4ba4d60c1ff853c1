"""Resizing and channel conversion of decoded images (LANCZOS, luma)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from aestudio.core.facts import LUMA_WEIGHTS

__all__ = ["match_channels", "resize", "resize_square", "to_gray"]

_LUMA = np.array(LUMA_WEIGHTS, dtype=np.float32)


def to_gray(arr: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W, 1) with the luma weights of :data:`~aestudio.core.facts.LUMA_WEIGHTS`.

    Parameters
    ----------
    arr : np.ndarray
        (..., 3) uint8 or uint16.

    Returns
    -------
    np.ndarray
        (..., 1), same dtype, rounded and clipped.
    """
    luma = arr.astype(np.float32) @ _LUMA
    top = np.iinfo(arr.dtype).max
    return np.rint(np.clip(luma, 0, top)).astype(arr.dtype)[..., None]


def match_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """(H, W, C) integer image with ``channels`` channels: gray to RGB by repetition, RGB to
    gray by :func:`to_gray`."""
    have = image.shape[-1]
    if have == channels:
        return image
    if channels == 3:
        return np.repeat(image, 3, axis=-1)
    return to_gray(image)


def resize(
    arr: np.ndarray,
    width: int,
    height: int,
    box: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """LANCZOS resize of (H, W, C) uint8/uint16 to (height, width, C).

    16-bit goes per channel through Pillow's float mode 'F' (Pillow resamples no 16-bit
    colour mode). ``box`` is the source region to resample, as in ``Image.resize``.
    """
    if arr.dtype == np.uint8:
        im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
        out = np.asarray(im.resize((width, height), Image.Resampling.LANCZOS, box=box))
        return out.reshape(height, width, arr.shape[2])
    planes = []
    for c in range(arr.shape[2]):
        im = Image.fromarray(np.ascontiguousarray(arr[..., c], dtype=np.float32))
        planes.append(np.asarray(im.resize((width, height), Image.Resampling.LANCZOS, box=box)))
    out = np.stack(planes, axis=-1)
    return np.rint(np.clip(out, 0, 65535)).astype(np.uint16)


def resize_square(arr: np.ndarray, size: int) -> np.ndarray:
    """Shorter side to ``size``, then centre crop to size x size (one LANCZOS resample).

    Parameters
    ----------
    arr : np.ndarray
        (H, W, C) uint8 or uint16.
    size : int
        Side of the square result.

    Returns
    -------
    np.ndarray
        (size, size, C), same dtype; ``arr`` itself when it is already that size.
    """
    height, width = arr.shape[:2]
    if height == width == size:
        return arr
    m = min(height, width)
    box = ((width - m) / 2, (height - m) / 2, (width + m) / 2, (height + m) / 2)
    return resize(arr, size, size, box)
