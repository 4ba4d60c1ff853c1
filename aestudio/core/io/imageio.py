"""Reading and writing images for the engine.

A decoded image is a numpy array of shape (H, W, C) with C in {1, 3} and dtype uint8 or
uint16, the file's native bit depth. Files are never decoded to float: conversions live
in :func:`to_float` and :func:`from_float`.

Reading rules (both :func:`read_header` and :func:`read_image` follow them, so a header
predicts the decoded array):

- EXIF orientation is applied (the array is upright);
- alpha is composited on white (RGBA -> RGB, LA -> L); a PNG/TIFF colour key likewise;
- palette -> RGB, or L when every palette entry is gray; CMYK, YCbCr, ... -> RGB;
  1-bit -> L (0 or 255);
- 16-bit gray stays uint16 (H, W, 1); 16-bit RGB(A) PNG and 48-bit RGB TIFF stay uint16;
- float TIFF samples are taken to lie in [0, 1]: clipped and scaled to uint16.

Pillow decodes everything except TIFF, which tifffile reads (falling back to Pillow for the
layouts tifffile cannot decode without extra codecs, e.g. LZW or JPEG compression).
Pillow cuts 16-bit colour to 8 bits; we decode such images twice through Pillow's own C
decoder, once keeping the high bytes and once the low bytes, and join them.

Speed: a file is opened once (small files are read whole and decoded from memory); plain
8-bit (and 16-bit gray) PNGs skip ``Image.open`` for a chunk walk and Pillow's PNG pixel
decoder, and :func:`decode_small_pngs` decodes thousands of small ones in one call. Their
results, infos and error messages are those of the Pillow path.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import stat
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from aestudio.core.errors import ImageReadError
from aestudio.core.io.atomic import atomic_write
from aestudio.core.io.formats import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    ImageInfo,
    ImageMetadata,
    PathLike,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "ImageInfo",
    "ImageMetadata",
    "ImageReadError",
    "decode_small_pngs",
    "from_float",
    "read_file",
    "read_header",
    "read_image",
    "read_metadata",
    "to_float",
    "write_image",
]


# Our own pixel limit is checked from the header before any decode. Pillow's check runs
# inside Image.open, before ours; raise it to our default so it never pre-empts ours with a
# different message (it stays a backstop at twice that). LOAD_TRUNCATED_IMAGES is left False.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

# Only these Pillow plugins may open a file: several others (EPS, ...) run external programs.
_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")
_SUFFIX_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112


@functools.cache
def _tifffile() -> Any:
    """tifffile, imported on first use: the window starts ~30 ms sooner without it."""
    import tifffile

    return tifffile


# Errors Pillow and tifffile raise on broken data.
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error)


# --------------------------------------------------------------------------- conversions


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


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 by round(v / 257), the exact inverse of v * 257."""
    return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _composite_on_white(arr: np.ndarray, premultiplied: bool = False) -> np.ndarray:
    """(H, W, C+1) colour + alpha -> (H, W, C) composited on white, same dtype."""
    colour, alpha = arr[..., :-1], arr[..., -1:]
    top = np.iinfo(arr.dtype).max
    if alpha.min() == top:  # opaque: nothing to blend, skip the float pass
        return colour
    a = alpha.astype(np.float32) / np.float32(top)
    c = colour.astype(np.float32)
    out = c + top * (1 - a) if premultiplied else c * a + top * (1 - a)
    return np.rint(np.clip(out, 0, top)).astype(arr.dtype)


def _apply_colour_key(arr: np.ndarray, key: Any) -> np.ndarray:
    """Turn pixels equal to a PNG/TIFF transparent colour (tRNS) white."""
    key_values = np.atleast_1d(np.asarray(key, dtype=np.int64))
    if key_values.size != arr.shape[-1]:
        return arr
    mask = np.all(arr == key_values.astype(arr.dtype), axis=-1)
    if mask.any():
        arr = arr.copy()
        arr[mask] = np.iinfo(arr.dtype).max
    return arr


# --------------------------------------------------------------------------- orientation


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
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


def _oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _orientation_from_exif(raw: bytes | None) -> int:
    if not raw:
        return 1
    exif = Image.Exif()
    try:
        exif.load(raw if raw.startswith(_EXIF_PREFIX) else _EXIF_PREFIX + raw)
        value = int(exif.get(_ORIENTATION_TAG, 1))
    except Exception:  # broken EXIF must not make the image unreadable
        return 1
    return value if 1 <= value <= 8 else 1


def _exif_with_prefix(raw: bytes | None) -> bytes | None:
    if not raw:
        return None
    return raw if raw.startswith(_EXIF_PREFIX) else _EXIF_PREFIX + raw


def _exif_upright(exif: bytes) -> bytes:
    """Set the EXIF orientation tag to 1 in place (the pixels we write are upright).

    Patching the one value keeps every other byte (maker notes, offsets) as it was.
    """
    body_start = len(_EXIF_PREFIX) if exif.startswith(_EXIF_PREFIX) else 0
    tiff = bytearray(exif[body_start:])
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for i in range(count):
            entry = ifd + 2 + 12 * i
            tag, kind = struct.unpack_from(order + "HH", tiff, entry)
            if tag == _ORIENTATION_TAG and kind == 3:
                struct.pack_into(order + "H", tiff, entry + 8, 1)
                return exif[:body_start] + bytes(tiff)
    except (KeyError, struct.error):
        pass
    return exif


# --------------------------------------------------------------------------- file sniffing


# Files up to this size are read into memory with one open and one read, and every decoder
# (Pillow, tifffile, the plain-PNG path) works from those bytes: no second open, no small
# reads. Larger files are opened by the decoder itself, which reads only what it needs.
_WHOLE_FILE_BYTES = 32 * 1024**2
# A header read takes this much: enough for the chunks or tags before the pixel data.
_HEADER_BYTES = 64 * 1024


class _Source(NamedTuple):  # a tuple: made once per file, thousands of times a scan
    """A file opened once: its path, size and first bytes, or all of it when small."""

    path: str
    size: int
    head: bytes  # the first bytes, or the whole file when ``whole``
    whole: bool  # head holds the whole file
    status: os.stat_result | None = None  # from the open file

    def stream(self) -> BinaryIO | str:
        """What a decoder reads from: the bytes in memory, else the path."""
        return io.BytesIO(self.head) if self.whole else self.path


def _read_source(path: str, limit: int) -> _Source:
    """Open ``path`` once and read up to ``limit`` bytes.

    Raises ImageReadError for missing, empty or unreadable files and folders.
    """
    # os-level calls: with thousands of small files, a Python file object per file and its
    # buffer cost more than the reading. Ask for the size that is there, not ``limit``.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except IsADirectoryError as e:
        raise ImageReadError("is a folder, not a file") from e
    except FileNotFoundError as e:
        raise ImageReadError("file not found") from e
    except OSError as e:
        raise ImageReadError(f"cannot read file: {e.strerror or e}") from e
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise ImageReadError("is a folder, not a file")
        size = status.st_size
        if size == 0:
            raise ImageReadError("empty file (0 bytes)")
        want = min(size, limit)
        parts = [os.read(fd, want)]
        got = len(parts[0])
        while 0 < got < want:  # a read may return less than asked
            parts.append(os.read(fd, want - got))
            got += len(parts[-1]) or want  # 0 bytes: the file shrank; stop
        head = parts[0] if len(parts) == 1 else b"".join(parts)
    except OSError as e:
        raise ImageReadError(f"cannot read file: {e.strerror or e}") from e
    finally:
        os.close(fd)
    return _Source(path, size, head, len(head) >= size, status)


def _sniff(head: bytes) -> str | None:
    """The format a file's magic bytes claim, or None."""
    if head.startswith(_PNG_SIGNATURE):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] in _TIFF_MAGICS:
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageReadError(
            f"too many pixels: {width}x{height} exceeds the limit of {max_pixels:,}"
        )


def _short(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# --------------------------------------------------------------------------- Pillow path


@contextmanager
def _open_pil(source: _Source) -> Iterator[Image.Image]:
    """Image.open with our error messages; the image is closed on exit."""
    try:
        im = Image.open(source.stream(), formats=_PIL_FORMATS)
    except Image.DecompressionBombError as e:
        raise ImageReadError(f"too many pixels: {_short(e)}") from e
    except UnidentifiedImageError as e:
        claimed = _sniff(source.head)
        if claimed is None:
            raise ImageReadError("not an image") from e
        raise ImageReadError(f"truncated or corrupt: cannot parse the {claimed} header") from e
    except _DECODE_ERRORS as e:
        raise ImageReadError(f"truncated or corrupt: {_short(e)}") from e
    try:
        yield im
    finally:
        im.close()


def _load(im: Image.Image) -> None:
    """Decode fully; a truncated file raises (LOAD_TRUNCATED_IMAGES stays False)."""
    try:
        im.load()
    except Image.DecompressionBombError as e:
        raise ImageReadError(f"too many pixels: {_short(e)}") from e
    except _DECODE_ERRORS as e:
        raise ImageReadError(f"truncated or corrupt: {_short(e)}") from e


def _first_rawmode(im: Image.Image) -> str | None:
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


_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})


def _pil_channels_depth(im: Image.Image, kind: str | None) -> tuple[int, int, str]:
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


def _pil_orientation(im: Image.Image) -> int:
    # PNG's getexif() decodes the whole image to look for a late eXIf chunk; use info.
    if im.format == "PNG" or "exif" in im.info:
        return _orientation_from_exif(im.info.get("exif"))
    try:
        return int(im.getexif().get(_ORIENTATION_TAG, 1)) if im.format == "TIFF" else 1
    except Exception:
        return 1


def _pil_format(im: Image.Image) -> str:
    return "JPEG" if im.format == "MPO" else str(im.format)


def _pil_header(im: Image.Image, max_pixels: int) -> tuple[ImageInfo, str | None, int]:
    """(info, 16-bit kind, orientation) of an opened Pillow image; checks the pixel limit."""
    width, height = im.size
    _check_pixels(width, height, max_pixels)
    kind = _pil_16bit_kind(im)
    channels, depth, mode = _pil_channels_depth(im, kind)
    orientation = _pil_orientation(im)
    w, h = _oriented_size(width, height, orientation)
    return ImageInfo(w, h, channels, depth, mode, _pil_format(im)), kind, orientation


def _pil_to_array(im: Image.Image) -> np.ndarray:
    """A loaded 8-bit or single-band 16-bit Pillow image -> (H, W, C), reading rules applied."""
    mode = im.mode
    key = im.info.get("transparency")
    if mode in ("P", "PA"):
        gray = _palette_is_gray(im)
        rgb = _composite_on_white(np.asarray(im.convert("RGBA")))
        return rgb[..., :1] if gray else rgb
    if mode in ("LA", "La", "RGBA", "RGBa"):
        return _composite_on_white(np.asarray(im), premultiplied=mode in ("La", "RGBa"))
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
        arr = _apply_colour_key(arr, key)
    return arr


_SWAP_BYTE_ORDER = {"B": "L", "L": "B", "N": "B" if sys.byteorder == "little" else "L"}


def _low_byte_rawmode(raw: str) -> str:
    """A rawmode whose 8-bit unpacker keeps the low byte of each 16-bit sample.

    Pillow's ';16B' unpacker keeps byte 0 of each sample pair and ';16L' keeps byte 1, so
    reading big-endian data as little-endian (and vice versa) yields the low bytes.
    """
    if raw[-4:-1] != ";16" or raw[-1] not in _SWAP_BYTE_ORDER:
        raise ImageReadError(f"unsupported 16-bit layout: {raw}")
    return raw[:-1] + _SWAP_BYTE_ORDER[raw[-1]]


def _set_rawmode(im: Image.Image, change: Callable[[str], str]) -> None:
    """Replace the rawmode of every tile of an opened (not loaded) image."""
    tiles = []
    for tile in im.tile:
        args = tile[3]
        if isinstance(args, str):
            args = change(args)
        elif isinstance(args, tuple) and args and isinstance(args[0], str):
            args = (change(args[0]), *args[1:])
        else:
            raise ImageReadError("unsupported 16-bit layout")
        tiles.append(tile._replace(args=args) if hasattr(tile, "_replace") else (*tile[:3], args))
    im.tile = tiles


def _decode_pil_bytes(source: _Source, change: Callable[[str], str] | None) -> np.ndarray:
    """Decode with a changed rawmode (None: Pillow's own); the 8-bit bands as an array."""
    with _open_pil(source) as im:
        if change is not None:
            _set_rawmode(im, change)
        _load(im)
        return np.asarray(im)


def _read_pil_16bit(source: _Source, kind: str) -> np.ndarray:
    """16-bit colour or gray+alpha -> uint16 (H, W, bands), alpha still attached."""
    if kind == "la":
        # Gray+alpha is 4 bytes a pixel: decoding as plain 'RGBA' keeps all four bytes.
        with _open_pil(source) as im:
            if im.mode != "RGBA":
                im._mode = "RGBA"  # Pillow >= 11 already opens LA;16 as RGBA
            _set_rawmode(im, lambda raw: "RGBA")
            _load(im)
            b = np.asarray(im).astype(np.uint16)
        return np.stack([(b[..., 0] << 8) | b[..., 1], (b[..., 2] << 8) | b[..., 3]], axis=-1)
    high = _decode_pil_bytes(source, None).astype(np.uint16)
    low = _decode_pil_bytes(source, _low_byte_rawmode)
    return (high << 8) | low


def _read_pil(
    source: _Source, max_pixels: int, draft: int | None
) -> tuple[np.ndarray, ImageInfo]:
    with _open_pil(source) as im:
        info, kind, orientation = _pil_header(im, max_pixels)
        if kind is not None:
            arr = _read_pil_16bit(source, kind)
            if arr.shape[-1] in (2, 4):
                arr = _composite_on_white(arr)
            elif im.info.get("transparency") is not None:
                arr = _apply_colour_key(arr, im.info["transparency"])
        else:
            if draft and im.format in ("JPEG", "MPO"):
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale, keeping both sides >= draft.
                im.draft(im.mode, (draft, draft))
            _load(im)
            arr = _pil_to_array(im)
            orientation = _pil_orientation(im)  # a PNG's eXIf may follow the pixel data
    arr = np.ascontiguousarray(_apply_orientation(arr, orientation))
    return arr, dataclasses.replace(info, width=arr.shape[1], height=arr.shape[0])


# --------------------------------------------------------------------------- TIFF path

_TIFF_GRAY = (0, 1)  # MINISWHITE, MINISBLACK
_TIFF_RGB = 2


def _tifffile_can_decode(page: Any) -> bool:
    """Whether tifffile alone decodes this page; otherwise Pillow (libtiff) reads it."""
    try:
        return (
            int(page.photometric) in (*_TIFF_GRAY, _TIFF_RGB)
            and page.bitspersample > 1
            and page.dtype is not None
            and page.compression in _tifffile().TIFF.DECOMPRESSORS
            and (int(page.predictor) == 1 or page.predictor in _tifffile().TIFF.UNPREDICTORS)
        )
    except (ValueError, TypeError, AttributeError):
        return False


def _tiff_layout(page: Any) -> tuple[int, int | None]:
    """(colour channels, index of the alpha sample or None) of a gray/RGB page."""
    colour = 3 if int(page.photometric) == _TIFF_RGB else 1
    samples = int(page.samplesperpixel)
    extras = tuple(int(e) for e in (page.extrasamples or ()))
    if samples < colour:
        raise ImageReadError(f"unsupported TIFF: {samples} samples for RGB")
    if samples > colour and not extras:
        raise ImageReadError(f"unsupported TIFF: {samples} channels")
    alpha = colour if samples > colour and extras[0] in (1, 2) else None
    return colour, alpha


def _tiff_mode(colour: int, alpha: int | None, dtype: np.dtype) -> str:
    base = ("L" if colour == 1 else "RGB") + ("A" if alpha is not None else "")
    if dtype == np.uint8:
        return base
    if dtype == np.uint16:
        return "I;16" if base == "L" else f"{base} 16-bit"
    return f"{base} float{dtype.itemsize * 8}"


def _tiff_orientation(page: Any) -> int:
    tag = page.tags.get(274)
    try:
        value = int(tag.value) if tag is not None else 1
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _tiff_header(page: Any, max_pixels: int) -> tuple[ImageInfo, int]:
    width, height = int(page.imagewidth), int(page.imagelength)
    _check_pixels(width, height, max_pixels)
    dtype = np.dtype(page.dtype)
    if not (dtype in (np.uint8, np.uint16) or dtype.kind == "f"):
        raise ImageReadError(f"unsupported TIFF sample type: {dtype}")
    colour, alpha = _tiff_layout(page)
    orientation = _tiff_orientation(page)
    w, h = _oriented_size(width, height, orientation)
    depth = 8 if dtype == np.uint8 else 16
    return ImageInfo(w, h, colour, depth, _tiff_mode(colour, alpha, dtype), "TIFF"), orientation


def _check_tiff_complete(page: Any, file_size: int) -> None:
    """tifffile reads short strips without complaint; compare them with the file size."""
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n]
    if not ends or max(ends) > file_size:
        raise ImageReadError("truncated or corrupt: TIFF pixel data runs past the end of file")


def _tiff_pixels(page: Any) -> np.ndarray:
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


def _tiff_to_array(page: Any, raw: np.ndarray) -> np.ndarray:
    """Apply the reading rules to (H, W, S) TIFF samples."""
    colour, alpha = _tiff_layout(page)
    if raw.dtype.kind == "f":
        # Float TIFFs are taken as [0, 1] data; clipped and scaled to uint16.
        raw = from_float(raw, np.uint16)
    if int(page.photometric) == 0:  # MINISWHITE: 0 is white
        raw = np.iinfo(raw.dtype).max - raw
    if alpha is not None:
        keep = [*range(colour), alpha]
        return _composite_on_white(raw[..., keep], premultiplied=page.extrasamples[0] == 1)
    return raw[..., :colour]


@contextmanager
def _open_tiff(source: _Source) -> Iterator[Any]:
    try:
        tif = _tifffile().TiffFile(source.stream())
    except Exception as e:  # tifffile raises many types on broken headers
        raise ImageReadError(f"truncated or corrupt: {_short(e)}") from e
    try:
        if not tif.pages:
            raise ImageReadError("truncated or corrupt: TIFF without images")
        yield tif
    finally:
        tif.close()


def _read_tiff(source: _Source, max_pixels: int) -> tuple[np.ndarray, ImageInfo] | None:
    """Read with tifffile; None when the page needs Pillow instead."""
    with _open_tiff(source) as tif:
        page = tif.pages.first
        if not _tifffile_can_decode(page):
            return None
        info, orientation = _tiff_header(page, max_pixels)
        _check_tiff_complete(page, source.size)
        try:
            raw = _tiff_pixels(page)
        except ImageReadError:
            raise
        except Exception as e:
            raise ImageReadError(f"truncated or corrupt: {_short(e)}") from e
        arr = _tiff_to_array(page, raw)
    arr = np.ascontiguousarray(_apply_orientation(arr, orientation))
    return arr, info


# --------------------------------------------------------------------------- plain PNG path

# Most training folders hold plain 8-bit PNGs, thousands of small ones. For those, the chunk
# walk below and Pillow's own PNG pixel decoder ("zip") replace Image.open, whose per-file
# Python work costs more than the decoding itself. Anything else, or anything the walk finds
# odd (a bad checksum, a cut file, an unknown chunk), goes the Pillow path, which then gives
# the error messages.

# (bit depth, colour type) -> (Pillow mode, decoder rawmode)
_PLAIN_PNG_MODES = {
    (8, 0): ("L", "L"),
    (16, 0): ("I;16", "I;16B"),
    (8, 2): ("RGB", "RGB"),
    (8, 4): ("LA", "LA"),
    (8, 6): ("RGBA", "RGBA"),
}
_PLAIN_PNG_CHANNELS = {"L": 1, "I;16": 1, "RGB": 3, "LA": 1, "RGBA": 3}
# Chunks that change nothing in the decoded array (colour key, palette, EXIF and
# animation do, so they are not here).
_PLAIN_PNG_CHUNKS = frozenset(
    {b"IEND", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs", b"sBIT", b"tEXt", b"zTXt",
     b"iTXt", b"tIME", b"bKGD"}
)


class _PlainPng(NamedTuple):
    info: ImageInfo
    rawmode: str
    idat: list[memoryview]  # the compressed pixel data (empty when read for a header)


_PNG_HEAD = _PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR"  # signature, IHDR of 13 bytes
_IHDR = struct.Struct(">IIBBBBBI")  # IHDR fields and its checksum
_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")


def _plain_png(data: bytes, whole: bool) -> _PlainPng | None:
    """Walk a PNG's chunks; None unless it is plain (see above) and well formed.

    With ``whole`` False only the chunks before the pixel data are read, as Pillow does for
    a header; with ``whole`` True every chunk up to IEND is checked.
    """
    if not data.startswith(_PNG_HEAD) or len(data) < 45:
        return None  # not a PNG, IHDR not first (Pillow refuses it), or cut short
    width, height, depth, colour, comp, filt, lace, crc = _IHDR.unpack_from(data, 16)
    found = _PLAIN_PNG_MODES.get((depth, colour))
    limit = Image.MAX_IMAGE_PIXELS
    if (found is None or comp or filt or lace or not width or not height
            or (limit is not None and width * height > limit)
            or zlib.crc32(data[12:29]) != crc):
        return None  # Pillow says what is wrong, or decodes it its way
    view = memoryview(data)
    pos, end = 33, len(data)
    idat: list[memoryview] = []
    after_idat = False
    while True:
        if pos + 8 > end:
            return None  # cut short
        length, kind = _CHUNK_HEAD.unpack_from(data, pos)
        stop = pos + 12 + length
        if kind == b"IDAT" and not whole:
            break  # a header: the pixel data may lie beyond the bytes read
        if stop > end:
            return None
        if kind == b"IDAT":
            if after_idat:
                return None  # Pillow reads one run of IDAT chunks only
            idat.append(view[pos + 8 : stop - 4])  # Pillow skips IDAT checksums too
        else:
            after_idat = bool(idat)
            if (kind not in _PLAIN_PNG_CHUNKS
                    or zlib.crc32(view[pos + 4 : stop - 4]) != _CRC.unpack_from(data, stop - 4)[0]):
                return None
            if kind == b"IEND":
                break
        pos = stop
    if whole and not idat:
        return None
    return _PlainPng(_plain_png_info(width, height, found[0]), found[1], idat)


@functools.lru_cache(maxsize=1024)
def _plain_png_info(width: int, height: int, mode: str) -> ImageInfo:
    """One shared ImageInfo per size and mode: a folder of digits needs one, not thousands."""
    depth = 16 if mode == "I;16" else 8
    return ImageInfo(width, height, _PLAIN_PNG_CHANNELS[mode], depth, mode, "PNG")


def _decode_plain_png(png: _PlainPng) -> np.ndarray | None:
    """The (H, W, C) array, reading rules applied; None when the data does not decode."""
    info = png.info
    data = png.idat[0] if len(png.idat) == 1 else b"".join(png.idat)
    try:
        im = Image.frombytes(info.mode, (info.width, info.height), data, "zip", png.rawmode)
    except (ValueError, OSError, zlib.error):
        return None  # the Pillow path reports it
    arr = np.asarray(im)
    if arr.ndim == 2:  # L, I;16: a writable copy, as the Pillow path gives
        return arr[..., None].copy()
    if info.mode in ("LA", "RGBA"):
        return np.ascontiguousarray(_composite_on_white(arr))
    return arr


# Pillow's PNG decoder undoes the row filters of one image per call; many small images go
# through it as one tall image instead. Each image's rows are followed by a zero row with
# filter type 0, so the next image's first row sees a zero row above it, exactly as the PNG
# rules say for a first row.
_BATCH_MAX_PIXELS = 256 * 256
_BATCH_CHUNK_BYTES = 16 * 1024**2
_BYTES_PER_PIXEL = {"L": 1, "I;16": 2, "RGB": 3, "LA": 2, "RGBA": 4}


def _unfilter_batch(
    mode: str, rawmode: str, width: int, height: int, rows: list[bytes]
) -> np.ndarray | None:
    """Decoded (n, H, W, C) arrays of n images' filtered rows, or None if Pillow refuses."""
    separator = bytes(1 + width * _BYTES_PER_PIXEL[mode])
    stream = separator.join(rows) + separator
    tall = (width, len(rows) * (height + 1))
    try:
        im = Image.frombytes(mode, tall, zlib.compress(stream, 0), "zip", rawmode)
    except (ValueError, OSError, zlib.error):
        return None
    arr = np.array(im).reshape(len(rows), height + 1, width, -1)[:, :height]  # writable
    if mode in ("LA", "RGBA"):
        arr = _composite_on_white(arr)
    return arr


def decode_small_pngs(
    files: Sequence[bytes], max_pixels: int = DEFAULT_MAX_PIXELS
) -> list[np.ndarray | None]:
    """Decode many small PNG files at once, from their bytes.

    Thousands of small PNGs (digits, patches, icons) decode several times faster this way
    than one by one: the per-file work left is a chunk walk and a ``zlib.decompress``.

    Parameters
    ----------
    files : sequence of bytes
        Each file's whole contents (see :func:`read_file`).
    max_pixels : int
        Larger images are left to :func:`read_image` (it gives the reason).

    Returns
    -------
    list of (np.ndarray or None)
        For each file, the array :func:`read_image` would return, or None where
        :func:`read_image` must read it: not a plain 8-bit (or 16-bit gray) PNG, more than
        256 x 256 pixels, or anything unusual, broken or cut short. Arrays of one size are
        views into one shared block.
    """
    results: list[np.ndarray | None] = [None] * len(files)
    groups: dict[tuple[str, str, int, int], list[tuple[int, bytes]]] = {}
    for i, data in enumerate(files):
        png = _plain_png(data, whole=True)
        if png is None:
            continue
        info = png.info
        pixels = info.width * info.height
        if pixels > _BATCH_MAX_PIXELS or pixels > max_pixels:
            continue
        try:
            rows = zlib.decompress(png.idat[0] if len(png.idat) == 1 else b"".join(png.idat))
        except zlib.error:
            continue  # read_image says what is wrong
        if len(rows) != info.height * (1 + info.width * _BYTES_PER_PIXEL[info.mode]):
            continue
        groups.setdefault((info.mode, png.rawmode, info.width, info.height), []).append((i, rows))
    for (mode, rawmode, width, height), items in groups.items():
        per_chunk = max(1, _BATCH_CHUNK_BYTES // len(items[0][1]))
        for start in range(0, len(items), per_chunk):
            chunk = items[start : start + per_chunk]
            decoded = _unfilter_batch(mode, rawmode, width, height, [rows for _, rows in chunk])
            if decoded is None:
                continue  # one bad filter byte fails the chunk; read_image reads each
            for (i, _), arr in zip(chunk, decoded, strict=True):
                results[i] = arr
    return results


# --------------------------------------------------------------------------- public reading


def _given_source(path: str, data: bytes | None, limit: int) -> _Source:
    """The bytes a caller already read (the whole file), else the file opened once."""
    if data is None:
        return _read_source(path, limit)
    if not data:
        raise ImageReadError("empty file (0 bytes)")
    return _Source(path, len(data), data, whole=True)


def read_file(
    path: PathLike, limit: int = _HEADER_BYTES
) -> tuple[bytes | None, os.stat_result]:
    """Read a whole image file when it is small, for :func:`read_header` / :func:`read_image`.

    Reading a small file once and handing the bytes to both saves opening it twice (the
    folder scanner keeps them between the two).

    Parameters
    ----------
    path : str or PathLike
        The image file.
    limit : int
        Largest size read; a larger file gives None.

    Returns
    -------
    tuple of (bytes or None, os.stat_result)
        The file's contents, or None when it has more than ``limit`` bytes, and its status
        as of the read.

    Raises
    ------
    ImageReadError
        Missing, empty or unreadable file, or a folder (the messages of :func:`read_image`).
    """
    source = _read_source(os.fspath(path), limit)
    assert source.status is not None
    return (source.head if source.whole else None), source.status


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
        The whole file, already read (:func:`read_file`); the file is then not opened.

    Returns
    -------
    ImageInfo
        Size (upright), channels and bit depth of the array :func:`read_image` returns.

    Raises
    ------
    ImageReadError
        Missing, empty, not an image, unparsable header or too many pixels.
    """
    source = _given_source(os.fspath(path), data, _HEADER_BYTES)
    png = _plain_png(source.head, whole=False)
    if png is not None:
        _check_pixels(png.info.width, png.info.height, max_pixels)
        return png.info
    if source.head[:4] in _TIFF_MAGICS:
        with _open_tiff(source) as tif:
            page = tif.pages.first
            if _tifffile_can_decode(page):
                return _tiff_header(page, max_pixels)[0]
    with _open_pil(source) as im:
        return _pil_header(im, max_pixels)[0]


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
        The whole file, already read (:func:`read_file`); the file is then not opened.

    Returns
    -------
    tuple of (np.ndarray, ImageInfo)
        (H, W, C) uint8 or uint16 array with C in {1, 3}, and its info.

    Raises
    ------
    ImageReadError
        Missing, empty, not an image, too many pixels, truncated or corrupt data.
    """
    source = _given_source(os.fspath(path), data, _WHOLE_FILE_BYTES)
    png = _plain_png(source.head, whole=True) if source.whole else None
    if png is not None:
        _check_pixels(png.info.width, png.info.height, max_pixels)
        arr = _decode_plain_png(png)
        if arr is not None:
            return arr, png.info
    if source.head[:4] in _TIFF_MAGICS:
        result = _read_tiff(source, max_pixels)
        if result is not None:
            return result
    return _read_pil(source, max_pixels, draft)


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
    """
    source = _read_source(os.fspath(path), _HEADER_BYTES)
    if source.head[:4] in _TIFF_MAGICS:
        with _open_tiff(source) as tif:
            page = tif.pages.first
            if _tifffile_can_decode(page):
                return _tiff_metadata(page)
    with _open_pil(source) as im:
        info = _pil_header(im, sys.maxsize)[0]
        dpi = im.info.get("dpi")
        return ImageMetadata(
            format=info.format,
            bit_depth=info.bit_depth,
            exif=_exif_with_prefix(im.info.get("exif")),
            icc_profile=im.info.get("icc_profile") or None,
            dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
        )


def _tiff_metadata(page: Any) -> ImageMetadata:
    icc = page.tags.get(34675)
    dpi = None
    with suppress(Exception):
        x, y = page.get_resolution(_tifffile().RESUNIT.INCH)
        if x > 0 and y > 0 and int(page.resolutionunit) != 1:  # 1: no absolute unit
            dpi = (float(x), float(y))
    depth = 8 if np.dtype(page.dtype) == np.uint8 else 16
    icc_bytes = bytes(icc.value) if icc is not None else None
    return ImageMetadata("TIFF", depth, None, icc_bytes or None, dpi)


# --------------------------------------------------------------------------- writing


def _format_for(path: Path) -> str:
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(IMAGE_SUFFIXES))
        raise ValueError(f"cannot tell the image format of {path.name!r}; use one of {known}")
    return fmt


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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _write_png16(f: BinaryIO, arr: np.ndarray, meta: ImageMetadata | None) -> None:
    """16-bit gray or RGB PNG with numpy + zlib (Pillow cannot write 16-bit RGB)."""
    height, width, channels = arr.shape
    colour_type = 0 if channels == 1 else 2
    samples = arr.astype(">u2").reshape(height, width * channels).view(np.uint8)
    rows = np.zeros((height, samples.shape[1] + 1), dtype=np.uint8)  # filter byte 0: None
    rows[:, 1:] = samples
    f.write(_PNG_SIGNATURE)
    f.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)))
    if meta is not None and meta.icc_profile:
        f.write(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(meta.icc_profile)))
    if meta is not None and meta.dpi:
        ppm = [max(1, round(d / 0.0254)) for d in meta.dpi]
        f.write(_png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1)))
    if meta is not None and meta.exif:
        exif = meta.exif.removeprefix(_EXIF_PREFIX)
        f.write(_png_chunk(b"eXIf", _exif_upright(exif)))
    data = zlib.compress(rows.data, 6)
    step = 1 << 20
    for start in range(0, len(data), step):
        f.write(_png_chunk(b"IDAT", data[start : start + step]))
    f.write(_png_chunk(b"IEND", b""))


def _write_tiff(f: BinaryIO, arr: np.ndarray, meta: ImageMetadata | None) -> None:
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
            kwargs["exif"] = _exif_upright(meta.exif)
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
        round(v / 257). Float arrays are refused: convert them with :func:`from_float`.
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
    fmt = _format_for(path)
    arr = _checked_array(array)
    if arr.dtype == np.uint16 and fmt not in ("PNG", "TIFF"):
        arr = _to_uint8(arr)

    def write(f: BinaryIO) -> None:
        if fmt == "TIFF":
            _write_tiff(f, arr, metadata)
        elif fmt == "PNG" and arr.dtype == np.uint16:
            _write_png16(f, arr, metadata)
        else:
            _write_pil(f, arr, fmt, metadata, quality)

    atomic_write(path, write)
