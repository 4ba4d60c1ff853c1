"""Pixel conversions: integer <-> float, alpha and colour keys, EXIF orientation.

:func:`to_float` and :func:`from_float` are public; the rest are the steps of the reading
rules (:mod:`aestudio.core.io.read`), shared by the Pillow, tifffile and PNG paths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["from_float", "to_float"]


def to_float(arr: np.ndarray) -> np.ndarray:
    """Scale an integer image to float32 in [0, 1].

    Parameters
    ----------
    arr : np.ndarray
        uint8 (divided by 255) or uint16 (divided by 65535). A float array is returned
        as float32 unchanged in value.

    Returns
    -------
    np.ndarray
        float32 array of the same shape.

    Raises
    ------
    TypeError
        Any other dtype.
    """
    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    raise TypeError(f"to_float needs uint8, uint16 or float, got {arr.dtype}")


def from_float(arr: np.ndarray, dtype: Any) -> np.ndarray:
    """Convert a float image in [0, 1] to uint8 or uint16 (clipped, rounded; NaN -> 0).

    Parameters
    ----------
    arr : np.ndarray
        Float array, nominally in [0, 1].
    dtype : numpy dtype
        ``np.uint8`` or ``np.uint16``.

    Returns
    -------
    np.ndarray
        Array of ``dtype`` and the same shape.

    Raises
    ------
    TypeError
        ``arr`` is not float, or ``dtype`` is neither uint8 nor uint16.
    """
    arr = np.asarray(arr)
    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16):
        raise TypeError(f"from_float converts to uint8 or uint16, not {dtype}")
    if arr.dtype.kind != "f":
        raise TypeError(f"from_float needs a float array, got {arr.dtype}")
    top = np.float32(np.iinfo(dtype).max)
    scaled = np.nan_to_num(arr.astype(np.float32), nan=0.0) * top
    return np.rint(np.clip(scaled, 0, top)).astype(dtype)


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 by round(v / 257), the exact inverse of v * 257."""
    return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)


def composite_on_white(arr: np.ndarray, premultiplied: bool = False) -> np.ndarray:
    """(H, W, C+1) colour + alpha -> (H, W, C) composited on white, same dtype."""
    colour, alpha = arr[..., :-1], arr[..., -1:]
    top = np.iinfo(arr.dtype).max
    if alpha.min() == top:  # opaque: nothing to blend, skip the float pass
        return colour
    a = alpha.astype(np.float32) / np.float32(top)
    c = colour.astype(np.float32)
    out = c + top * (1 - a) if premultiplied else c * a + top * (1 - a)
    return np.rint(np.clip(out, 0, top)).astype(arr.dtype)


def apply_colour_key(arr: np.ndarray, key: Any) -> np.ndarray:
    """Turn pixels equal to a PNG/TIFF transparent colour (tRNS) white."""
    key_values = np.atleast_1d(np.asarray(key, dtype=np.int64))
    if key_values.size != arr.shape[-1]:
        return arr
    mask = np.all(arr == key_values.astype(arr.dtype), axis=-1)
    if mask.any():
        arr = arr.copy()
        arr[mask] = np.iinfo(arr.dtype).max
    return arr


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Make an (H, W, C) array upright for an EXIF orientation 1..8 (as exif_transpose)."""
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1]
    if orientation == 5:
        return arr.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(arr, -1)
    if orientation == 7:
        return arr[::-1, ::-1].transpose(1, 0, 2)
    if orientation == 8:
        return np.rot90(arr, 1)
    return arr


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """(width, height) of the upright image for an EXIF orientation."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
