"""16-bit colour PNG through imagecodecs (libpng): Pillow keeps only 8 bits of such files.

Pillow still reads the header and the metadata chunks; imagecodecs decodes and encodes the
pixels. Our metadata chunks (iCCP, pHYs, eXIf) go after IHDR of the encoded file, where
the PNG rules want them.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Any, BinaryIO

import numpy as np

from aestudio.core.errors import ImageReadError
from aestudio.core.io.formats import EXIF_PREFIX, PNG_SIGNATURE, ImageMetadata
from aestudio.core.io.metadata import exif_upright
from aestudio.core.io.source import short

__all__ = ["decode", "write"]

_IHDR_END = len(PNG_SIGNATURE) + 8 + 13 + 4  # signature, IHDR chunk with its checksum


@functools.cache
def _imagecodecs() -> Any:
    """imagecodecs, imported on first use (a 16-bit PNG): it is slow to import."""
    import imagecodecs

    return imagecodecs


def decode(data: bytes) -> np.ndarray:
    """Decode a 16-bit PNG file's pixels.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    np.ndarray
        uint16 (H, W, C), alpha (if any) still attached as the last channel.

    Raises
    ------
    ImageReadError
        Truncated or corrupt data.
    """
    codecs = _imagecodecs()
    try:
        arr = codecs.png_decode(data)
    except (codecs.PngError, ValueError, MemoryError) as e:
        raise ImageReadError(f"truncated or corrupt: {short(e)}") from e
    arr = np.asarray(arr)
    if arr.dtype != np.uint16:
        raise ImageReadError(f"truncated or corrupt: expected 16-bit samples, got {arr.dtype}")
    return arr if arr.ndim == 3 else arr[..., None]


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _metadata_chunks(meta: ImageMetadata | None) -> bytes:
    if meta is None:
        return b""
    chunks = []
    if meta.icc_profile:
        chunks.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(meta.icc_profile)))
    if meta.dpi:
        ppm = [max(1, round(d / 0.0254)) for d in meta.dpi]
        chunks.append(_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1)))
    if meta.exif:
        chunks.append(_chunk(b"eXIf", exif_upright(meta.exif.removeprefix(EXIF_PREFIX))))
    return b"".join(chunks)


def write(f: BinaryIO, arr: np.ndarray, meta: ImageMetadata | None) -> None:
    """Write (H, W, 1) or (H, W, 3) uint16 as a 16-bit gray or RGB PNG, with metadata.

    Parameters
    ----------
    f : binary file
        Where the PNG goes.
    arr : np.ndarray
        uint16 (H, W, 1) or (H, W, 3).
    meta : ImageMetadata, optional
        ICC profile, DPI and EXIF (orientation reset to 1) to keep.
    """
    encoded = _imagecodecs().png_encode(arr[..., 0] if arr.shape[2] == 1 else arr, level=6)
    f.write(encoded[:_IHDR_END])
    f.write(_metadata_chunks(meta))
    f.write(encoded[_IHDR_END:])
