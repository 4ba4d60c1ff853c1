"""TIFF through tifffile: reading gray and RGB pages at full depth, and writing.

Pages tifffile cannot decode (palette, CMYK, YCbCr, 1-bit, or a compression without a
codec) are left to the Pillow path; :func:`tifffile_can_decode` tells which.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO

import numpy as np

from aestudio.core.errors import ImageReadError
from aestudio.core.io.convert import (
    apply_orientation,
    composite_on_white,
    from_float,
    oriented_size,
)
from aestudio.core.io.formats import ImageInfo, ImageMetadata
from aestudio.core.io.source import Source, check_pixels, short

_GRAY = (0, 1)  # MINISWHITE, MINISBLACK
_RGB = 2
_ORIENTATION_TAG = 274
_ICC_TAG = 34675


@functools.cache
def _tifffile() -> Any:
    """tifffile, imported on first use: the window starts sooner without it."""
    import logging

    import tifffile

    # tifffile logs damaged files itself; ours is the one message, raised as ImageReadError.
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    return tifffile


def tifffile_can_decode(page: Any) -> bool:
    """Whether tifffile alone decodes this page; otherwise Pillow (libtiff) reads it."""
    try:
        return (
            int(page.photometric) in (*_GRAY, _RGB)
            and page.bitspersample > 1
            and page.dtype is not None
            and page.compression in _tifffile().TIFF.DECOMPRESSORS
            and (int(page.predictor) == 1 or page.predictor in _tifffile().TIFF.UNPREDICTORS)
        )
    except (ValueError, TypeError, AttributeError):
        return False


def _layout(page: Any) -> tuple[int, int | None]:
    """(colour channels, index of the alpha sample or None) of a gray/RGB page."""
    colour = 3 if int(page.photometric) == _RGB else 1
    samples = int(page.samplesperpixel)
    extras = tuple(int(e) for e in (page.extrasamples or ()))
    if samples < colour:
        raise ImageReadError(f"unsupported TIFF: {samples} samples for RGB")
    if samples > colour and not extras:
        raise ImageReadError(f"unsupported TIFF: {samples} channels")
    alpha = colour if samples > colour and extras[0] in (1, 2) else None
    return colour, alpha


def _mode(colour: int, alpha: int | None, dtype: np.dtype) -> str:
    base = ("L" if colour == 1 else "RGB") + ("A" if alpha is not None else "")
    if dtype == np.uint8:
        return base
    if dtype == np.uint16:
        return "I;16" if base == "L" else f"{base} 16-bit"
    return f"{base} float{dtype.itemsize * 8}"


def _orientation(page: Any) -> int:
    tag = page.tags.get(_ORIENTATION_TAG)
    try:
        value = int(tag.value) if tag is not None else 1
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def tiff_header(page: Any, max_pixels: int) -> tuple[ImageInfo, int]:
    """(info, orientation) of a page tifffile decodes; checks the pixel limit."""
    width, height = int(page.imagewidth), int(page.imagelength)
    check_pixels(width, height, max_pixels)
    dtype = np.dtype(page.dtype)
    if not (dtype in (np.uint8, np.uint16) or dtype.kind == "f"):
        raise ImageReadError(f"unsupported TIFF sample type: {dtype}")
    colour, alpha = _layout(page)
    orientation = _orientation(page)
    w, h = oriented_size(width, height, orientation)
    depth = 8 if dtype == np.uint8 else 16
    try:
        frames = len(page.parent.pages)
    except Exception:  # noqa: BLE001  (a damaged later page: the first is still the image)
        frames = 1
    return ImageInfo(w, h, colour, depth, _mode(colour, alpha, dtype), "TIFF",
                     max(frames, 1)), orientation


def _check_complete(page: Any, file_size: int) -> None:
    """tifffile reads short strips without complaint; compare them with the file size."""
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n]
    if not ends or max(ends) > file_size:
        raise ImageReadError("truncated or corrupt: TIFF pixel data runs past the end of file")


def _pixels(page: Any) -> np.ndarray:
    """Page pixels as (H, W, S), whatever tifffile's axes order (planar, depth)."""
    arr = page.asarray()
    axes = str(page.axes)
    if arr.ndim != len(axes):
        raise ImageReadError(f"unsupported TIFF layout: axes {axes}")
    arr = arr[tuple(slice(None) if a in "YXS" else 0 for a in axes)]
    axes = "".join(a for a in axes if a in "YXS")
    if "S" not in axes:
        arr, axes = arr[..., None], axes + "S"
    return arr.transpose([axes.index(a) for a in "YXS"])


def _to_array(page: Any, raw: np.ndarray) -> np.ndarray:
    """Apply the reading rules to (H, W, S) TIFF samples."""
    colour, alpha = _layout(page)
    if raw.dtype.kind == "f":
        # Float TIFFs are taken as [0, 1] data; clipped and scaled to uint16.
        raw = from_float(raw, np.uint16)
    if int(page.photometric) == 0:  # MINISWHITE: 0 is white
        raw = np.iinfo(raw.dtype).max - raw
    if alpha is not None:
        keep = [*range(colour), alpha]
        return composite_on_white(raw[..., keep], premultiplied=page.extrasamples[0] == 1)
    return raw[..., :colour]


@contextmanager
def open_tiff(source: Source) -> Iterator[Any]:
    """tifffile.TiffFile with our error messages; closed on exit."""
    try:
        tif = _tifffile().TiffFile(source.stream())
    except Exception as e:  # tifffile raises many types on broken headers
        raise ImageReadError(f"truncated or corrupt: {short(e)}") from e
    try:
        if not tif.pages:
            raise ImageReadError("truncated or corrupt: TIFF without images")
        yield tif
    finally:
        tif.close()


def read_tiff(source: Source, max_pixels: int) -> tuple[np.ndarray, ImageInfo] | None:
    """Read with tifffile; None when the page needs Pillow instead."""
    with open_tiff(source) as tif:
        page = tif.pages.first
        if not tifffile_can_decode(page):
            return None
        info, orientation = tiff_header(page, max_pixels)
        _check_complete(page, source.size)
        try:
            raw = _pixels(page)
        except ImageReadError:
            raise
        except Exception as e:
            raise ImageReadError(f"truncated or corrupt: {short(e)}") from e
        arr = _to_array(page, raw)
    arr = np.ascontiguousarray(apply_orientation(arr, orientation))
    return arr, info


def tiff_metadata(page: Any) -> ImageMetadata:
    """ICC profile, DPI and bit depth of a page tifffile decodes (TIFF tags are not EXIF)."""
    icc = page.tags.get(_ICC_TAG)
    dpi = None
    with suppress(Exception):
        x, y = page.get_resolution(_tifffile().RESUNIT.INCH)
        if x > 0 and y > 0 and int(page.resolutionunit) != 1:  # 1: no absolute unit
            dpi = (float(x), float(y))
    depth = 8 if np.dtype(page.dtype) == np.uint8 else 16
    icc_bytes = bytes(icc.value) if icc is not None else None
    return ImageMetadata("TIFF", depth, None, icc_bytes or None, dpi)


def write_tiff(f: BinaryIO, arr: np.ndarray, meta: ImageMetadata | None) -> None:
    """8/16-bit gray or RGB TIFF (uncompressed); keeps ICC and DPI, not EXIF."""
    kwargs: dict[str, Any] = {}
    if meta is not None and meta.icc_profile:
        kwargs["iccprofile"] = meta.icc_profile
    if meta is not None and meta.dpi:
        kwargs["resolution"] = meta.dpi
        kwargs["resolutionunit"] = "INCH"
    gray = arr.shape[2] == 1
    _tifffile().imwrite(
        f,
        arr[..., 0] if gray else arr,
        photometric="minisblack" if gray else "rgb",
        metadata=None,  # no JSON ImageDescription
        **kwargs,
    )
