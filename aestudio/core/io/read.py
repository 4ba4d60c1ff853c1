"""Reading images: headers, pixels and metadata.

A decoded image is a numpy array of shape (H, W, C) with C in {1, 3} and dtype uint8 or
uint16, the file's native bit depth. Files are never decoded to float: conversions live
in :mod:`aestudio.core.io.convert`.

Reading rules (both :func:`read_header` and :func:`read_image` follow them, so a header
predicts the decoded array):

- EXIF orientation is applied (the array is upright);
- alpha is composited on white (RGBA -> RGB, LA -> L); a PNG/TIFF colour key likewise;
- palette -> RGB, or L when every palette entry is gray; CMYK, YCbCr, ... -> RGB;
  1-bit -> L (0 or 255);
- 16-bit gray stays uint16 (H, W, 1); 16-bit RGB(A) PNG and 48-bit RGB TIFF stay uint16;
- float TIFF samples are taken to lie in [0, 1]: clipped and scaled to uint16.

Pillow decodes everything except TIFF, which tifffile reads (Pillow takes the layouts
tifffile cannot decode), and 16-bit colour PNG, which libpng decodes through imagecodecs
(:mod:`aestudio.core.io.png16`). A file is opened once (small files are read whole and
decoded from memory); plain PNGs take the fast path of :mod:`aestudio.core.io.png_fast`.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from aestudio.core.io.formats import (
    DEFAULT_MAX_PIXELS,
    ImageInfo,
    ImageMetadata,
    PathLike,
    is_tiff,
)
from aestudio.core.io.metadata import exif_with_prefix
from aestudio.core.io.pil import open_pil, pil_header, read_pil
from aestudio.core.io.png_fast import decode_plain_png, plain_png
from aestudio.core.io.source import (
    HEADER_BYTES,
    WHOLE_FILE_BYTES,
    check_pixels,
    given_source,
    read_source,
)
from aestudio.core.io.tiff import (
    open_tiff,
    read_tiff,
    tiff_header,
    tiff_metadata,
    tifffile_can_decode,
)

__all__ = ["read_header", "read_image", "read_metadata"]


def read_header(
    path: PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, *, data: bytes | None = None
) -> ImageInfo:
    """Read an image's header without decoding its pixels.

    Parameters
    ----------
    path : str or PathLike
        The image file.
    max_pixels : int
        Images with more pixels than this are refused (decompression-bomb protection).
    data : bytes, optional
        The whole file, already read (:func:`~aestudio.core.io.source.read_file`); the
        file is then not opened.

    Returns
    -------
    ImageInfo
        Size (upright), channels and bit depth of the array :func:`read_image` returns.

    Raises
    ------
    ImageReadError
        Missing, empty, not an image, unparsable header or too many pixels.
    """
    source = given_source(os.fspath(path), data, HEADER_BYTES)
    png = plain_png(source.head, whole=False)
    if png is not None:
        check_pixels(png.info.width, png.info.height, max_pixels)
        return png.info
    if is_tiff(source.head):
        with open_tiff(source) as tif:
            page = tif.pages.first
            if tifffile_can_decode(page):
                return tiff_header(page, max_pixels)[0]
    with open_pil(source) as im:
        return pil_header(im, max_pixels)[0]


def read_image(
    path: PathLike,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    *,
    draft: int | None = None,
    data: bytes | None = None,
) -> tuple[np.ndarray, ImageInfo]:
    """Decode an image fully, following the module's reading rules.

    Parameters
    ----------
    path : str or PathLike
        The image file.
    max_pixels : int
        Checked from the header before decoding.
    draft : int, optional
        JPEG only: allow libjpeg to decode at a reduced scale as long as both sides stay
        >= ``draft`` (much faster when the image is to be shrunk anyway). The returned info
        then describes the smaller array.
    data : bytes, optional
        The whole file, already read (:func:`~aestudio.core.io.source.read_file`); the
        file is then not opened.

    Returns
    -------
    tuple of (np.ndarray, ImageInfo)
        (H, W, C) uint8 or uint16 array with C in {1, 3}, and its info.

    Raises
    ------
    ImageReadError
        Missing, empty, not an image, too many pixels, truncated or corrupt data.
    """
    source = given_source(os.fspath(path), data, WHOLE_FILE_BYTES)
    png = plain_png(source.head, whole=True) if source.whole else None
    if png is not None:
        check_pixels(png.info.width, png.info.height, max_pixels)
        arr = decode_plain_png(png)
        if arr is not None:
            return arr, png.info
    if is_tiff(source.head):
        result = read_tiff(source, max_pixels)
        if result is not None:
            return result
    return read_pil(source, max_pixels, draft)


def read_metadata(path: PathLike) -> ImageMetadata:
    """Read what a processed copy of this image should keep (EXIF, ICC, DPI).

    Parameters
    ----------
    path : str or PathLike
        The image file.

    Returns
    -------
    ImageMetadata
        EXIF (with ``Exif\\0\\0`` prefix; ``None`` for TIFF, whose tags are not EXIF
        bytes), ICC profile, DPI, format and decoded bit depth.

    Raises
    ------
    ImageReadError
        Missing, empty, not an image or an unparsable header.
    """
    source = read_source(os.fspath(path), HEADER_BYTES)
    if is_tiff(source.head):
        with open_tiff(source) as tif:
            page = tif.pages.first
            if tifffile_can_decode(page):
                return tiff_metadata(page)
    with open_pil(source) as im:
        info = pil_header(im, sys.maxsize)[0]
        dpi = im.info.get("dpi")
        return ImageMetadata(
            format=info.format,
            bit_depth=info.bit_depth,
            exif=exif_with_prefix(im.info.get("exif")),
            icc_profile=im.info.get("icc_profile") or None,
            dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
        )
