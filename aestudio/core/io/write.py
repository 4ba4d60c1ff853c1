"""Writing images atomically, the format taken from the suffix, keeping bit depth.

Float arrays are refused (no 32-bit float files by surprise); 16-bit arrays give 16-bit
PNG (:mod:`aestudio.core.io.png16`) and TIFF (:mod:`aestudio.core.io.tiff`), and Pillow
writes the 8-bit formats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from aestudio.core.io import png16
from aestudio.core.io.atomic import atomic_write
from aestudio.core.io.convert import to_uint8
from aestudio.core.io.formats import ImageMetadata, PathLike, format_for_suffix
from aestudio.core.io.metadata import exif_upright
from aestudio.core.io.tiff import write_tiff

__all__ = ["write_image"]


def _checked_array(array: np.ndarray) -> np.ndarray:
    """Validate and return (H, W, C) uint8/uint16 with C in {1, 3}."""
    arr = np.asarray(array)
    if arr.dtype.kind == "f":
        raise TypeError(
            "float arrays are not written (no 32-bit float files by surprise); "
            "convert with from_float(arr, np.uint8 or np.uint16)"
        )
    if arr.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_image needs uint8 or uint16, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3) or 0 in arr.shape:
        raise ValueError(f"write_image needs (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
    return arr


def _write_pil(
    f: BinaryIO, arr: np.ndarray, fmt: str, meta: ImageMetadata | None, quality: int
) -> None:
    """8-bit files through Pillow (PNG, JPEG, BMP, WebP) with what metadata each keeps."""
    im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    kwargs: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP"):
        kwargs["quality"] = quality
    if meta is not None:
        if meta.icc_profile and fmt != "BMP":
            kwargs["icc_profile"] = meta.icc_profile
        if meta.exif and fmt != "BMP":
            kwargs["exif"] = exif_upright(meta.exif)
        if meta.dpi and fmt != "WEBP":
            kwargs["dpi"] = meta.dpi
    im.save(f, format=fmt, **kwargs)


def write_image(
    path: PathLike,
    array: np.ndarray,
    metadata: ImageMetadata | None = None,
    *,
    quality: int = 95,
) -> None:
    """Write an image atomically, the format taken from the suffix.

    Parameters
    ----------
    path : str or PathLike
        Target file; its suffix (.png .jpg .jpeg .tif .tiff .bmp .webp) picks the format.
    array : np.ndarray
        (H, W), (H, W, 1) or (H, W, 3), uint8 or uint16. uint16 gives 16-bit PNG/TIFF
        (48-bit for RGB); formats without 16-bit samples (JPEG, BMP, WebP) get
        round(v / 257). Float arrays are refused: convert them with
        :func:`~aestudio.core.io.convert.from_float`.
    metadata : ImageMetadata, optional
        EXIF (orientation reset to 1, as the pixels are upright), ICC profile and DPI to
        keep: JPEG and WebP keep EXIF + ICC, PNG keeps EXIF + ICC + DPI, TIFF keeps ICC +
        DPI, BMP keeps DPI.
    quality : int
        JPEG / WebP quality.

    Raises
    ------
    TypeError
        Float or other unsupported dtype.
    ValueError
        Unknown suffix or bad shape.
    """
    path = Path(path)
    fmt = format_for_suffix(path.name)
    arr = _checked_array(array)
    if arr.dtype == np.uint16 and fmt not in ("PNG", "TIFF"):
        arr = to_uint8(arr)

    def write(f: BinaryIO) -> None:
        if fmt == "TIFF":
            write_tiff(f, arr, metadata)
        elif fmt == "PNG" and arr.dtype == np.uint16:
            png16.write(f, arr, metadata)
        else:
            _write_pil(f, arr, fmt, metadata, quality)

    atomic_write(path, write)
