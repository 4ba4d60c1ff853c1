"""EXIF bytes: the orientation they give, the prefix they are kept with, and an upright copy.

EXIF is parsed with Pillow's public ``Image.Exif``. Only :func:`exif_upright` touches the
bytes itself: it patches the one orientation value in place, because re-serialising EXIF
(``Image.Exif.tobytes``) moves its blocks and breaks the offsets inside maker notes.
"""

from __future__ import annotations

import struct

from PIL import Image

from aestudio.core.io.formats import EXIF_PREFIX

__all__ = ["ORIENTATION_TAG", "exif_upright", "exif_with_prefix", "orientation_from_exif"]

ORIENTATION_TAG = 0x0112


def orientation_from_exif(raw: bytes | None) -> int:
    """The EXIF orientation 1..8 in ``raw`` (with or without prefix); 1 when unknown."""
    if not raw:
        return 1
    exif = Image.Exif()
    try:
        exif.load(raw if raw.startswith(EXIF_PREFIX) else EXIF_PREFIX + raw)
        value = int(exif.get(ORIENTATION_TAG, 1))
    except Exception:  # broken EXIF must not make the image unreadable
        return 1
    return value if 1 <= value <= 8 else 1


def exif_with_prefix(raw: bytes | None) -> bytes | None:
    """EXIF bytes in the form :class:`~aestudio.core.io.formats.ImageMetadata` keeps."""
    if not raw:
        return None
    return raw if raw.startswith(EXIF_PREFIX) else EXIF_PREFIX + raw


def exif_upright(exif: bytes) -> bytes:
    """The EXIF bytes with the orientation tag set to 1 (the pixels we write are upright).

    Patching the one value keeps every other byte (maker notes, offsets) as it was.
    """
    body_start = len(EXIF_PREFIX) if exif.startswith(EXIF_PREFIX) else 0
    tiff = bytearray(exif[body_start:])
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for i in range(count):
            entry = ifd + 2 + 12 * i
            tag, kind = struct.unpack_from(order + "HH", tiff, entry)
            if tag == ORIENTATION_TAG and kind == 3:
                struct.pack_into(order + "H", tiff, entry + 8, 1)
                return exif[:body_start] + bytes(tiff)
    except (KeyError, struct.error):
        pass
    return exif
