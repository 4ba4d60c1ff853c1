"""Scanning an image folder: the walk, the headers, and the bytes kept for the decode.

:func:`scan_folder` lists a folder with the one walker
(:func:`~aestudio.core.io.walk.list_image_files`; labels are first-level subfolder names)
and reads headers only. With many small files, each is read whole with one open, its
header taken from those bytes and the bytes kept (up to a budget) for the decode, so a
file is opened once from scan to array. Headers are remembered for the life of the
process, keyed by path, size, mtime, ctime and inode, so scanning a folder again (the
dataset panel, then training) opens no file that has not changed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from aestudio.core.data.pool import Progress, io_workers, run_pool
from aestudio.core.data.records import ImageRecord, ScanResult, Skipped
from aestudio.core.errors import DatasetError, ImageReadError
from aestudio.core.io.formats import DEFAULT_MAX_PIXELS, ImageInfo
from aestudio.core.io.read import read_header
from aestudio.core.io.source import read_file
from aestudio.core.io.walk import list_image_files

__all__ = ["scan_folder"]

# The scan keeps the bytes of files up to this size for the decode, at most this much in all.
_KEEP_FILE_BYTES = 256 * 1024
_KEEP_TOTAL_BYTES = 32 * 1024**2
# Remembered headers (about 300 bytes each); the older half is dropped when full.
_HEADER_MEMO_ENTRIES = 100_000
# A file changed this recently may change again within the clock's resolution unseen by
# mtime and ctime; its header is not remembered.
_RACY_NS = 2_000_000_000


class _HeaderMemo:
    """Headers of files read before, keyed by path, size, mtime, ctime and inode."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: dict[tuple, ImageInfo] = {}

    @staticmethod
    def key(path: str, st: os.stat_result | None = None) -> tuple | None:
        """The key of a file as it is now (or as ``st`` says); None if unknown or racy."""
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None  # read_header says why
        if st.st_ctime_ns > time.time_ns() - _RACY_NS:
            return None
        return (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    def get(self, key: tuple | None) -> ImageInfo | None:
        return None if key is None else self._entries.get(key)

    def put(self, key: tuple | None, info: ImageInfo) -> None:
        if key is None:
            return
        with self._lock:
            if len(self._entries) >= self.limit:
                for old in list(self._entries)[: self.limit // 2]:
                    del self._entries[old]
            self._entries[key] = info

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_HEADERS = _HeaderMemo(_HEADER_MEMO_ENTRIES)
_SHARED_INFOS: dict[ImageInfo, ImageInfo] = {}


def _shared(info: ImageInfo) -> ImageInfo:
    """One object per distinct header: a folder of 60,000 digits has one.

    Fewer long-lived objects also spare a full garbage-collector pass over the process.
    """
    shared = _SHARED_INFOS.get(info)
    if shared is None:
        if len(_SHARED_INFOS) > 10_000:
            _SHARED_INFOS.clear()
        shared = _SHARED_INFOS.setdefault(info, info)
    return shared


class _Keeper:
    """The bytes of small files a scan keeps for its decode, within a budget (thread-safe)."""

    def __init__(self, budget: int) -> None:
        self.left = budget
        self.kept: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, "mtime:size")
        self._lock = threading.Lock()

    def keep(self, path: str, data: bytes, signature: str) -> None:
        with self._lock:
            if len(data) <= self.left:
                self.left -= len(data)
                self.kept[path] = (data, signature)


def _header(
    path: str, max_pixels: int, keeper: _Keeper | None = None, recall: bool = True
) -> ImageInfo | str:
    """The header, or the reason it can't be read; small files' bytes go to ``keeper``.

    With ``recall``, a remembered header is looked up first (one stat, no open); without,
    the file is opened at once (a folder never scanned before: the stat would be wasted).
    """
    if recall:
        known = _HEADERS.get(_HEADERS.key(path))
        if known is not None and known.width * known.height <= max_pixels:
            return known  # over the limit: read again, for read_header's own message
    try:
        data, st = read_file(path, _KEEP_FILE_BYTES)
        info = read_header(path, max_pixels, data=data)
    except ImageReadError as e:
        return str(e)
    except Exception as e:  # one odd file must not end a scan of thousands
        return f"unreadable: {type(e).__name__}: {e}"
    info = _shared(info)
    key = _HEADERS.key(path, st)
    _HEADERS.put(key, info)
    if data is not None and keeper is not None:
        keeper.keep(path, data, f"{st.st_mtime_ns}:{st.st_size}")
    return info


def _record(relpath: str, path: Path, info: ImageInfo) -> ImageRecord:
    label = relpath.split("/", 1)[0] if "/" in relpath else ""
    return ImageRecord(path, relpath, label, info)


def no_usable_images(root: Path, skipped: Sequence[Skipped]) -> DatasetError:
    """The error of a folder where nothing is usable, naming the first reason."""
    message = f"no usable images in {root}: {len(skipped)} files skipped"
    if skipped:
        first = skipped[0]
        message += f" (e.g. {first.path.name}: {first.reason})"
    return DatasetError(message)


def scan_folder(
    root: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_size: int = 1,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    workers: int | None = None,
) -> ScanResult:
    """Find the usable images under a folder, reading headers only.

    Parameters
    ----------
    root : str or PathLike
        The folder, walked by :func:`~aestudio.core.io.walk.list_image_files` (recursive,
        hidden files and folders ignored, symbolic links followed without loops).
    max_pixels : int
        Images with more pixels are skipped.
    min_size : int
        Images whose shorter side is below this (the training size) are skipped.
    progress : callable, optional
        ``progress(done, total)`` over the header reads, about 20 times a second at most.
    stop : threading.Event, optional
        When set, the scan raises :class:`~aestudio.core.data.records.ScanCancelled`.
    workers : int, optional
        Most threads reading headers; small local files are read in the calling thread,
        where threads would only contend for the GIL.

    Returns
    -------
    ScanResult
        Usable images in sorted order of their relative paths, and the skipped files with
        reasons. Files without an image suffix are ignored silently.

    Raises
    ------
    DatasetError
        ``root`` is not a folder, or no usable image remains.
    ScanCancelled
        ``stop`` was set.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"not a folder: {root}")
    try:
        listing = list_image_files(root)
    except OSError as e:
        raise DatasetError(f"cannot read folder {root}: {e.strerror or e}") from e
    skipped = [Skipped(p.path, p.reason) for p in listing.problems]
    if not listing.files:
        raise DatasetError(f"no images found in {root} (checked {listing.other_files} files)")
    # Paths stay strings until a record needs one: a Path per file costs more than its header.
    prefix = os.path.join(str(root), "")
    candidates = [(rel, prefix + rel.replace("/", os.sep)) for rel in listing.files]
    keeper = _Keeper(_KEEP_TOTAL_BYTES)
    seen_before = _HEADERS.get(_HEADERS.key(candidates[0][1])) is not None
    headers = run_pool(
        lambda p: _header(p, max_pixels, keeper, recall=seen_before),
        [path for _, path in candidates],
        workers=io_workers(workers),
        progress=progress,
        stop=stop,
    )
    images: list[ImageRecord] = []
    kept: dict[int, tuple[bytes, str]] = {}
    for (relpath, path), info in zip(candidates, headers, strict=True):
        if isinstance(info, str):
            skipped.append(Skipped(Path(path), info))
        elif min(info.width, info.height) < min_size:
            reason = f"smaller than the training size: {info.width}x{info.height} < {min_size}"
            skipped.append(Skipped(Path(path), reason))
        else:
            if path in keeper.kept:
                kept[len(images)] = keeper.kept[path]
            images.append(_record(relpath, Path(path), info))
    if not images:
        raise no_usable_images(root, skipped)
    return ScanResult(root, tuple(images), tuple(skipped), kept)
