"""Opening an image file once: its size, its first bytes, or all of it when small.

Files up to :data:`WHOLE_FILE_BYTES` are read into memory with one open and one read, and
every decoder (Pillow, tifffile, the plain-PNG path) works from those bytes: no second
open, no small reads. Larger files are opened by the decoder itself, which reads only what
it needs.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from typing import BinaryIO, NamedTuple

from aestudio.core.errors import ImageReadError
from aestudio.core.io.formats import PathLike

__all__ = ["read_file"]

WHOLE_FILE_BYTES = 32 * 1024**2
# A header read takes this much: enough for the chunks or tags before the pixel data.
HEADER_BYTES = 64 * 1024

# Errors Pillow and tifffile raise on broken data.
DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error)


class Source(NamedTuple):  # a tuple: made once per file, thousands of times a scan
    """A file opened once: its path, size and first bytes, or all of it when small."""

    path: str
    size: int
    head: bytes  # the first bytes, or the whole file when ``whole``
    whole: bool  # head holds the whole file
    status: os.stat_result | None = None  # from the open file

    def stream(self) -> BinaryIO | str:
        """What a decoder reads from: the bytes in memory, else the path."""
        return io.BytesIO(self.head) if self.whole else self.path

    def contents(self) -> bytes:
        """The whole file (read now when only its head is in memory)."""
        if self.whole:
            return self.head
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError as e:
            raise ImageReadError(f"cannot read file: {e.strerror or e}") from e


def read_source(path: str, limit: int) -> Source:
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
    return Source(path, size, head, len(head) >= size, status)


def given_source(path: str, data: bytes | None, limit: int) -> Source:
    """The bytes a caller already read (the whole file), else the file opened once."""
    if data is None:
        return read_source(path, limit)
    if not data:
        raise ImageReadError("empty file (0 bytes)")
    return Source(path, len(data), data, whole=True)


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Raise ImageReadError when ``width * height`` exceeds ``max_pixels``."""
    if width * height > max_pixels:
        raise ImageReadError(
            f"too many pixels: {width}x{height} exceeds the limit of {max_pixels:,}"
        )


def short(e: BaseException) -> str:
    """An exception as one line of at most 200 characters."""
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def read_file(
    path: PathLike, limit: int = HEADER_BYTES
) -> tuple[bytes | None, os.stat_result]:
    """Read a whole image file when it is small, for ``read_header`` / ``read_image``.

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
        Missing, empty or unreadable file, or a folder (the messages of ``read_image``).
    """
    source = read_source(os.fspath(path), limit)
    assert source.status is not None
    return (source.head if source.whole else None), source.status
