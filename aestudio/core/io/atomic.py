"""The one atomic writer: a temporary file beside the target, fsync, then rename.

A reader (or a crash) never sees half a file under the final name. Temporary files are
named ``.NAME.RANDOM.aestudio-tmp`` so that :func:`remove_stale_temporaries` can clear the
ones a killed process left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from aestudio.core.facts import TEMP_PREFIX, TEMP_SUFFIX

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_copy", "remove_stale_temporaries"]

# A temporary file this old belongs to no running writer of ours.
_STALE_SECONDS = 6 * 3600


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_NEW_FILE_MODE = _new_file_mode()


@contextlib.contextmanager
def _temporary_beside(path: Path, durable: bool) -> Iterator[tuple[BinaryIO, Path]]:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.",
                                    suffix=TEMP_SUFFIX)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with open(tmp, "wb") as handle:  # a named handle: tifffile wants .name to be a path
            yield handle, tmp
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = _NEW_FILE_MODE
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], *,
                 durable: bool = True) -> Path:
    """Write ``path`` through ``write(handle)`` so that it appears whole or not at all.

    Parameters
    ----------
    path : path-like
        The final file; its folder must exist. An existing file keeps its permissions.
    write : callable
        Writes the content to the binary handle it is given.
    durable : bool
        fsync before the rename (off only for caches that may be rebuilt).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OSError
        The disk's own error (full, read-only, ...); the target is left as it was.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(target))
    try:
        with _temporary_beside(target, durable) as (handle, _tmp):
            write(handle)
    except OSError as exc:
        if exc.errno is None or exc.filename == str(target):
            raise
        # The person asked for ``target``: name it, not our hidden temporary (or nothing).
        raise type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(target)) from exc
    return target


def atomic_write_bytes(path: str | os.PathLike, payload: bytes, *, durable: bool = True) -> Path:
    """:func:`atomic_write` of a bytes payload."""
    return atomic_write(path, lambda handle: handle.write(payload), durable=durable)


def atomic_copy(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy ``source`` to ``target`` atomically (same rules as :func:`atomic_write`)."""
    def write(handle: BinaryIO) -> None:
        with open(source, "rb") as src:
            while chunk := src.read(1 << 20):
                handle.write(chunk)
    return atomic_write(target, write)


def remove_stale_temporaries(folder: str | os.PathLike, *, older_than: float = _STALE_SECONDS
                             ) -> list[Path]:
    """Remove temporary files of ours in ``folder`` older than ``older_than`` seconds.

    Returns the removed paths; files that cannot be removed are left alone.
    """
    removed = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > older_than:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed
