"""A fast path for plain PNGs: a chunk walk instead of ``Image.open``, and batch decoding.

Why it exists: training folders hold thousands of small plain 8-bit PNGs (digits, patches),
and for those Pillow's per-file Python work in ``Image.open`` costs more than decoding the
pixels (docs/benchmarks.md, ``bench_scan``, has the figures). The walk only accepts files
it fully understands and hands everything else to the Pillow path, which then gives the
error messages; the pixels are still decoded by Pillow's own PNG decoder ("zip"), so
results, infos and messages are those of the Pillow path (a test compares them).
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from PIL import Image

from aestudio.core.io.convert import composite_on_white
from aestudio.core.io.formats import DEFAULT_MAX_PIXELS, PNG_SIGNATURE, ImageInfo

__all__ = ["decode_small_pngs"]

# Plain: 8-bit gray, gray + alpha, RGB, RGBA, or 16-bit gray; not interlaced; only the
# chunks below. Anything else, or anything odd (a bad checksum, a cut file), returns None.

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


class PlainPng(NamedTuple):
    info: ImageInfo
    rawmode: str
    idat: list[memoryview]  # the compressed pixel data (empty when read for a header)


_PNG_HEAD = PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR"  # signature, IHDR of 13 bytes
_IHDR = struct.Struct(">IIBBBBBI")  # IHDR fields and its checksum
_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")


def plain_png(data: bytes, whole: bool) -> PlainPng | None:
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
    return PlainPng(_plain_png_info(width, height, found[0]), found[1], idat)


@functools.lru_cache(maxsize=1024)
def _plain_png_info(width: int, height: int, mode: str) -> ImageInfo:
    """One shared ImageInfo per size and mode: a folder of digits needs one, not thousands."""
    depth = 16 if mode == "I;16" else 8
    return ImageInfo(width, height, _PLAIN_PNG_CHANNELS[mode], depth, mode, "PNG")


def decode_plain_png(png: PlainPng) -> np.ndarray | None:
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
        return np.ascontiguousarray(composite_on_white(arr))
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
        arr = composite_on_white(arr)
    return arr


def decode_small_pngs(
    files: Sequence[bytes], max_pixels: int = DEFAULT_MAX_PIXELS
) -> list[np.ndarray | None]:
    """Decode many small PNG files at once, from their bytes.

    Thousands of small PNGs (digits, patches, icons) decode faster this way
    than one by one: the per-file work left is a chunk walk and a ``zlib.decompress``.

    Parameters
    ----------
    files : sequence of bytes
        Each file's whole contents (see :func:`~aestudio.core.io.source.read_file`).
    max_pixels : int
        Larger images are left to :func:`~aestudio.core.io.read.read_image` (it gives the reason).

    Returns
    -------
    list of (np.ndarray or None)
        For each file, the array :func:`~aestudio.core.io.read.read_image` would return, or None where
        :func:`~aestudio.core.io.read.read_image` must read it: not a plain 8-bit (or 16-bit gray) PNG, more than
        256 x 256 pixels, or anything unusual, broken or cut short. Arrays of one size are
        views into one shared block.
    """
    results: list[np.ndarray | None] = [None] * len(files)
    groups: dict[tuple[str, str, int, int], list[tuple[int, bytes]]] = {}
    for i, data in enumerate(files):
        png = plain_png(data, whole=True)
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
