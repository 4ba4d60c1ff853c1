"""What the app knows about image files without decoding them.

The suffixes it reads and writes, the container each suffix means, how a file's first
bytes name its format, and the two small records a read produces: :class:`ImageInfo`
(the header, after the reading rules of :mod:`aestudio.core.io.read`) and
:class:`ImageMetadata` (what a processed copy keeps). Free of Pillow and tifffile, so that
listing folders and filling file dialogs import nothing heavy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "EXIF_PREFIX",
    "IMAGE_SUFFIXES",
    "ImageInfo",
    "ImageMetadata",
    "PathLike",
    "SUFFIX_FORMATS",
    "format_for_suffix",
    "sniff_format",
]

#: Images with more pixels are refused before decoding (decompression-bomb protection).
DEFAULT_MAX_PIXELS = 200_000_000

#: Container of each suffix the app reads and writes.
SUFFIX_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}

#: Lower-case suffixes (with the dot) of the files the app reads.
IMAGE_SUFFIXES: frozenset[str] = frozenset(SUFFIX_FORMATS)

#: EXIF is kept with this prefix (the JPEG APP1 payload form) whatever the source format.
EXIF_PREFIX = b"Exif\x00\x00"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ImageInfo:
    """What a header says about an image, after the reading rules are applied.

    ``width`` and ``height`` are those of the upright (EXIF-oriented) image, ``channels``
    and ``bit_depth`` those of the decoded array, ``mode`` the file's own mode in words and
    ``format`` the container ("PNG", "JPEG", "TIFF", ...), ``frames`` how many pages or
    frames the file holds (the first is the image).
    """

    width: int
    height: int
    channels: int
    bit_depth: int
    mode: str
    format: str
    frames: int = 1  # pages of a TIFF, frames of an animation: only the first is read


@dataclass(frozen=True)
class ImageMetadata:
    """What must survive a read -> process -> write round trip.

    ``exif`` is stored with its ``Exif\\0\\0`` prefix (the JPEG APP1 payload form) whatever
    the source format. ``dpi`` is (x, y) dots per inch.
    """

    format: str
    bit_depth: int
    exif: bytes | None
    icc_profile: bytes | None
    dpi: tuple[float, float] | None


def is_tiff(head: bytes) -> bool:
    """Whether a file's first bytes are those of a (classic or big) TIFF."""
    return head[:4] in TIFF_MAGICS


def sniff_format(head: bytes) -> str | None:
    """The format a file's first bytes claim.

    Parameters
    ----------
    head : bytes
        The file's first bytes (12 are enough).

    Returns
    -------
    str or None
        "PNG", "JPEG", "TIFF", "BMP" or "WEBP", or None for anything else.
    """
    if head.startswith(PNG_SIGNATURE):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if is_tiff(head):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def format_for_suffix(name: str) -> str:
    """The container a file name's suffix means.

    Parameters
    ----------
    name : str
        A file name or path.

    Returns
    -------
    str
        "PNG", "JPEG", "TIFF", "BMP" or "WEBP".

    Raises
    ------
    ValueError
        The suffix is not one of :data:`IMAGE_SUFFIXES`.
    """
    base = os.path.basename(name)
    fmt = SUFFIX_FORMATS.get(os.path.splitext(base)[1].lower())
    if fmt is None:
        known = ", ".join(sorted(IMAGE_SUFFIXES))
        raise ValueError(f"cannot tell the image format of {base!r}; use one of {known}")
    return fmt
