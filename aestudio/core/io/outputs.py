"""Checking where a job will write, before it starts: so that an hour of training or encoding
is never lost to a read-only folder, and an input is never replaced by an output."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from aestudio.core.errors import UserError
from aestudio.core.facts import TEMP_PREFIX, TEMP_SUFFIX
from aestudio.core.io.atomic import remove_stale_temporaries

__all__ = ["OutputIsInputError", "check_output_file", "check_output_folder"]


class OutputIsInputError(UserError, ValueError):
    """The output path names one of the job's inputs."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        return folder.is_dir() and path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                      overwrite: bool = True, create_folder: bool = True,
                      size_hint: int = 0) -> Path:
    """Raise a clear error now if ``path`` cannot be written later.

    Parameters
    ----------
    path : path-like
        The file the job will write (atomically, through :mod:`aestudio.core.io.atomic`).
    inputs : iterable of path-like
        Files or folders the job reads; the output may be none of these files, and no file
        inside an input folder.
    overwrite : bool
        False refuses an existing file.
    create_folder : bool
        Create the output's folder when it is missing.
    size_hint : int
        About how many bytes the file will take: a disk with less room is refused now.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputIsInputError
        ``path`` is an input, or inside an input folder.
    OSError
        The path is a folder, exists (with ``overwrite`` False), or its folder cannot be
        created or written (read-only, full, permission denied); the errno says which.
    """
    target = Path(path)
    for given in inputs:
        source = Path(given)
        if _same_file(target, source):
            raise OutputIsInputError(f"{target} is an input of this command; choose another output")
        if _inside(target, source):
            raise OutputIsInputError(f"{target} is inside the input folder {source}; "
                                     "choose an output outside it")
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(target))
    if target.exists() and not overwrite:
        raise FileExistsError(errno.EEXIST, "File exists", str(target))
    folder = target.parent
    _no_file_in_the_way(folder, target)
    if create_folder:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "No such folder", str(folder))
    _probe(folder, target.name)
    if size_hint > 0:
        # The old file's room is freed only after the new one is written.
        free = shutil.disk_usage(folder).free
        if free < size_hint:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
    return target


def _no_file_in_the_way(folder: Path, named: Path) -> None:
    """Raise ENOTDIR (naming ``named``) when a file stands where ``folder`` or one of the
    folders above it should be."""
    for above in (folder, *folder.parents):
        if above.exists() or above.is_symlink():
            if not above.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(named))
            return


_PROBE_BYTES = 4096  # one block: an empty file would fit even on a full disk


def _probe(folder: Path, name: str) -> None:
    remove_stale_temporaries(folder)  # left by a run that was killed while writing
    # A real write proves the folder takes data (a read-only or full disk, a quota, ACLs).
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{name}.",
                                     suffix=TEMP_SUFFIX)
        try:
            os.write(fd, b"\0" * _PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:  # named after the file asked for, not our probe
        raise type(exc)(exc.errno, exc.strerror, str(folder / name if name else folder)) from None


def check_output_folder(folder: str | os.PathLike) -> Path:
    """Raise a clear error now if files cannot be written into ``folder`` later.

    The folder (and its parents) are created; stale temporary files of a killed run in it
    are removed.

    Raises
    ------
    OSError
        A file stands where the folder should be, or the folder cannot be created or
        written (read-only, full, permission denied); the errno says which.
    """
    target = Path(folder)
    _no_file_in_the_way(target, target)
    target.mkdir(parents=True, exist_ok=True)
    _probe(target, "")
    return target
