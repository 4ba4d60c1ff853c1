"""The Pillow reading path: every format but TIFF, and the TIFF layouts tifffile can't read.

Pillow cuts 16-bit colour (and 16-bit gray + alpha) to 8 bits; such PNGs are decoded by
:mod:`aestudio.core.io.png16` instead, after Pillow has read their header and chunks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, UnidentifiedImageError

from aestudio.core.errors import ImageReadError
from aestudio.core.io import png16
from aestudio.core.io.convert import (
    apply_colour_key,
    apply_orientation,
    composite_on_white,
    from_float,
    oriented_size,
)
from aestudio.core.io.formats import DEFAULT_MAX_PIXELS, ImageInfo, sniff_format
from aestudio.core.io.metadata import ORIENTATION_TAG, orientation_from_exif
from aestudio.core.io.source import DECODE_ERRORS, Source, check_pixels, short

# Our own pixel limit is checked from the header before any decode. Pillow's check runs
# inside Image.open, before ours; raise it to our default so it never pre-empts ours with a
# different message (it stays a backstop at twice that). LOAD_TRUNCATED_IMAGES is left False.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

# Only these Pillow plugins may open a file: several others (EPS, ...) run external programs.
PIL_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})


@contextmanager
def open_pil(source: Source) -> Iterator[Image.Image]:
    """Image.open with our error messages; the image is closed on exit."""
    try:
        im = Image.open(source.stream(), formats=PIL_FORMATS)
    except Image.DecompressionBombError as e:
        raise ImageReadError(f"too many pixels: {short(e)}") from e
    except UnidentifiedImageError as e:
        claimed = sniff_format(source.head)
        if claimed is None:
            raise ImageReadError("not an image") from e
        raise ImageReadError(f"truncated or corrupt: cannot parse the {claimed} header") from e
    except DECODE_ERRORS as e:
        raise ImageReadError(f"truncated or corrupt: {short(e)}") from e
    try:
        yield im
    finally:
        im.close()


def _load(im: Image.Image) -> None:
    """Decode fully; a truncated file raises (LOAD_TRUNCATED_IMAGES stays False)."""
    try:
        im.load()
    except Image.DecompressionBombError as e:
        raise ImageReadError(f"too many pixels: {short(e)}") from e
    except DECODE_ERRORS as e:
        raise ImageReadError(f"truncated or corrupt: {short(e)}") from e


def _first_rawmode(im: Image.Image) -> str | None:
    """The sample layout of the first tile (read only: it tells the file's bit depth)."""
    if not im.tile:
        return None
    args = im.tile[0][3]
    if isinstance(args, tuple):
        args = args[0] if args else None
    return args if isinstance(args, str) else None


def _pil_16bit_kind(im: Image.Image) -> str | None:
    """'colour' or 'la' when Pillow would cut this 16-bit image to 8 bits, else None."""
    raw = _first_rawmode(im)
    if raw is None or raw[-4:-1] != ";16" or raw[-1] not in "BLN":
        return None
    base = raw[:-4]
    if base in ("RGB", "RGBA", "RGBX") and im.mode in ("RGB", "RGBA"):
        return "colour"
    if base == "LA":
        return "la"
    return None


def _palette_is_gray(im: Image.Image) -> bool:
    palette = im.getpalette("RGB")
    if not palette:
        return False
    p = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    return bool(np.all(p[:, 0] == p[:, 1]) and np.all(p[:, 1] == p[:, 2]))


def _channels_depth(im: Image.Image, kind: str | None) -> tuple[int, int, str]:
    """(channels, bit_depth, mode words) of the array read_image will return."""
    mode = im.mode
    if kind == "colour":
        return 3, 16, f"{_first_rawmode(im)[:-4]} 16-bit"  # type: ignore[index]
    if kind == "la":
        return 1, 16, "LA 16-bit"
    if mode.startswith("I;16"):
        return 1, 16, mode
    if mode in ("I", "F"):
        return 1, 16, mode
    if mode in ("P", "PA"):
        return (1 if _palette_is_gray(im) else 3), 8, mode
    return (1 if mode in _GRAY_MODES else 3), 8, mode


def _orientation(im: Image.Image) -> int:
    # PNG's getexif() decodes the whole image to look for a late eXIf chunk; use info.
    if im.format == "PNG" or "exif" in im.info:
        return orientation_from_exif(im.info.get("exif"))
    try:
        return int(im.getexif().get(ORIENTATION_TAG, 1)) if im.format == "TIFF" else 1
    except Exception:
        return 1


def _format(im: Image.Image) -> str:
    return "JPEG" if im.format == "MPO" else str(im.format)


def pil_header(im: Image.Image, max_pixels: int) -> tuple[ImageInfo, str | None, int]:
    """(info, 16-bit kind, orientation) of an opened Pillow image; checks the pixel limit."""
    width, height = im.size
    check_pixels(width, height, max_pixels)
    kind = _pil_16bit_kind(im)
    channels, depth, mode = _channels_depth(im, kind)
    orientation = _orientation(im)
    w, h = oriented_size(width, height, orientation)
    try:
        frames = max(int(getattr(im, "n_frames", 1) or 1), 1)
    except Exception:  # noqa: BLE001  (a damaged later frame: the first is still the image)
        frames = 1
    return ImageInfo(w, h, channels, depth, mode, _format(im), frames), kind, orientation


def _to_array(im: Image.Image) -> np.ndarray:
    """A loaded 8-bit or single-band 16-bit Pillow image -> (H, W, C), reading rules applied."""
    mode = im.mode
    key = im.info.get("transparency")
    if mode in ("P", "PA"):
        gray = _palette_is_gray(im)
        rgb = composite_on_white(np.asarray(im.convert("RGBA")))
        return rgb[..., :1] if gray else rgb
    if mode in ("LA", "La", "RGBA", "RGBa"):
        return composite_on_white(np.asarray(im), premultiplied=mode in ("La", "RGBa"))
    if mode == "1":
        arr = np.asarray(im.convert("L"))[..., None]
    elif mode == "L" or mode.startswith("I;16"):
        arr = np.asarray(im).astype(np.uint8 if mode == "L" else np.uint16)[..., None]
    elif mode == "I":  # PNG 16-bit gray on older Pillow, stored as int32
        arr = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)[..., None]
    elif mode == "F":
        return from_float(np.asarray(im), np.uint16)[..., None]
    elif mode == "RGB":
        arr = np.asarray(im)
    else:  # CMYK, YCbCr, LAB, HSV, RGBX
        return np.asarray(im.convert("RGB"))
    if key is not None and not isinstance(key, bytes):
        arr = apply_colour_key(arr, key)
    return arr


def _read_16bit(source: Source, im: Image.Image) -> np.ndarray:
    """A 16-bit colour or gray + alpha image -> uint16 (H, W, C), reading rules applied."""
    if im.format != "PNG":
        # Only a TIFF that tifffile cannot decode gets here; Pillow would keep 8 bits.
        raise ImageReadError(f"unsupported {im.format}: 16-bit colour in a layout "
                             "that only an 8-bit decoder reads")
    arr = png16.decode(source.contents())
    if arr.shape[-1] in (2, 4):
        return composite_on_white(arr)
    key = im.info.get("transparency")
    if key is not None and not isinstance(key, bytes):
        arr = apply_colour_key(arr, key)
    return arr


def read_pil(
    source: Source, max_pixels: int, draft: int | None
) -> tuple[np.ndarray, ImageInfo]:
    """Decode through Pillow (16-bit colour PNG through libpng); the array and its info."""
    with open_pil(source) as im:
        info, kind, orientation = pil_header(im, max_pixels)
        if kind is not None:
            arr = _read_16bit(source, im)
        else:
            if draft and im.format in ("JPEG", "MPO"):
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale, keeping both sides >= draft.
                im.draft(im.mode, (draft, draft))
            _load(im)
            arr = _to_array(im)
            orientation = _orientation(im)  # a PNG's eXIf may follow the pixel data
    arr = np.ascontiguousarray(apply_orientation(arr, orientation))
    return arr, dataclasses.replace(info, width=arr.shape[1], height=arr.shape[0])
