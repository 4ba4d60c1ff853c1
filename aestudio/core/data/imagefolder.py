"""Image folders as data sets: scanning headers, decoding, and the decoded cache.

:func:`scan_folder` walks a folder (labels are first-level subfolder names) and reads
headers only; :func:`decode_folder` turns a scan into arrays for training, either all
resized to S x S in one (N, C, S, S) array, or kept at full resolution as a list of
(C, H, W) arrays. Fixed-size decodes can be cached on disk as .npy and are then served by
a memory map, keyed by the folder, every file's mtime and size, the size and channels.

Speed with many small files: the scan reads each small file whole with one open, takes its
header from those bytes and keeps the bytes (up to a budget) for the decode, so a file is
opened once from scan to array; plain small PNGs are then decoded together
(:func:`~aestudio.core.io.imageio.decode_small_pngs`). Headers are remembered for the life of
the process, keyed by path, size, mtime, ctime and inode, so scanning a folder again (the
dataset panel, then training) opens no file that has not changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from aestudio.core.errors import DatasetError
from aestudio.core.io.atomic import atomic_write
from aestudio.core.io.imageio import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    ImageInfo,
    ImageReadError,
    decode_small_pngs,
    read_file,
    read_header,
    read_image,
)

__all__ = [
    "DatasetError",
    "DecodedSet",
    "ImageRecord",
    "ScanCancelled",
    "ScanResult",
    "Skipped",
    "decode_folder",
    "default_cache_dir",
    "scan_folder",
]

Progress = Callable[[int, int], None]
T = TypeVar("T")
R = TypeVar("R")

_PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress calls a second
_CACHE_VERSION = 1
# Below this many pixels per image, downscaling to fit memory would make useless images.
_MIN_CAP_PIXELS = 32 * 32
# The scan keeps the bytes of files up to this size for the decode, at most this much in all.
_KEEP_FILE_BYTES = 256 * 1024
_KEEP_TOTAL_BYTES = 32 * 1024**2
# Remembered headers (about 300 bytes each); the older half is dropped when full.
_HEADER_MEMO_ENTRIES = 100_000
# A file changed this recently may change again within the clock's resolution unseen by
# mtime and ctime; its header is not remembered.
_RACY_NS = 2_000_000_000
# Small PNGs are decoded together in groups of this many (progress and stop between them).
_BATCH_FILES = 4096
# _run_pool times this many items in the calling thread; threads take the rest only when
# an item took longer than this.
_PROBE_ITEMS = 64
_THREADS_PAY_OFF_S = 200e-6


class ScanCancelled(Exception):
    """The stop event was set during :func:`scan_folder` or :func:`decode_folder`."""


@dataclass(frozen=True)
class Skipped:
    """A file left out of the data set, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ImageRecord:
    """One usable image: where it is, its label and its header."""

    path: Path
    relpath: str  # posix, relative to the scan root
    label: str  # first-level subfolder name, "" for files directly in the root
    info: ImageInfo


@dataclass(frozen=True)
class ScanResult:
    """The usable images of a folder, in sorted order, and the files skipped."""

    root: Path
    images: tuple[ImageRecord, ...]
    skipped: tuple[Skipped, ...]
    # Bytes of small files read by the scan, by index into images, with the (mtime, size)
    # they were read at: the decode uses them instead of opening the files again.
    _kept: dict[int, tuple[bytes, str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def labels(self) -> tuple[str, ...]:
        """Sorted unique labels."""
        return tuple(sorted({r.label for r in self.images}))

    @property
    def label_counts(self) -> dict[str, int]:
        """Images per label, in label order."""
        counts = dict.fromkeys(self.labels, 0)
        for r in self.images:
            counts[r.label] += 1
        return counts

    @property
    def channels(self) -> int:
        """1 if every image is gray, else 3."""
        return 1 if all(r.info.channels == 1 for r in self.images) else 3


@dataclass
class DecodedSet:
    """Decoded images ready for training.

    ``images`` is one (N, C, S, S) array in fixed-size mode (a copy-on-write memory map
    when served from the cache) or a list of (C, H, W) arrays in full-size mode; dtype
    uint16 when ``bit_depth`` is 16 (8-bit sources scaled by 257), else uint8.
    """

    images: np.ndarray | list[np.ndarray]
    records: tuple[ImageRecord, ...]
    skipped: tuple[Skipped, ...]
    bit_depth: int
    channels: int
    labels: tuple[str, ...]
    label_index: np.ndarray
    notes: tuple[str, ...] = ()
    from_cache: bool = False
    size: int | None = field(default=None)

    def __len__(self) -> int:
        return len(self.records)


def default_cache_dir() -> Path:
    """The decoded-set cache folder: ``$AESTUDIO_CACHE_DIR`` or ``~/.cache/aestudio``.

    Returns
    -------
    Path
        The folder (not created here).
    """
    env = os.environ.get("AESTUDIO_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "aestudio"


# --------------------------------------------------------------------------- threading


class _Throttle:
    """Calls progress(done, total) at most every _PROGRESS_INTERVAL_S, plus at the end."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.last = -math.inf

    def __call__(self, done: int, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if force or now - self.last >= _PROGRESS_INTERVAL_S:
            self.last = now
            self.callback(done, self.total)


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ScanCancelled("stopped")


def _run_pool(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int,
    progress: Progress | None,
    stop: threading.Event | None,
    done_before: int = 0,
    total: int | None = None,
) -> list[R]:
    """Map fn over items in a thread pool, in order; progress and stop between items.

    Threads pay off when items wait on the disk or on C code that releases the GIL (large
    images, network shares); for small local files the work is Python under the GIL and
    threads only contend for it. So the first items run in this thread, and the pool takes
    the rest only if they were slow. Items go to the threads in chunks: one future per small
    file costs about as much as reading its header. Progress counts from ``done_before`` up
    to ``total`` (default: the item count), for work that began elsewhere.
    """
    _check_stop(stop)
    n = len(items)
    throttle = _Throttle(progress, done_before + n if total is None else total)
    throttle(done_before, force=True)
    results: list[Any] = [None] * n
    first = 0
    if workers > 1 and n > _PROBE_ITEMS:
        started = time.perf_counter()
        for first in range(_PROBE_ITEMS):
            _check_stop(stop)
            results[first] = fn(items[first])
            throttle(done_before + first + 1)
        first = _PROBE_ITEMS
        if (time.perf_counter() - started) / _PROBE_ITEMS < _THREADS_PAY_OFF_S:
            workers = 1
    workers = max(1, min(workers, n - first))
    chunk = max(1, min(256, (n - first) // (workers * 16)))

    def run_chunk(start: int) -> tuple[int, list[R]]:
        out = []
        for item in items[start : start + chunk]:
            if stop is not None and stop.is_set():
                break  # the caller raises ScanCancelled
            out.append(fn(item))
        return start, out

    done = first
    if workers == 1:
        chunks: Iterable[tuple[int, list[R]]] = map(run_chunk, range(first, n, chunk))
        pool = None
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aestudio-io")
        futures = [pool.submit(run_chunk, start) for start in range(first, n, chunk)]
        chunks = (future.result() for future in as_completed(futures))
    try:
        for start, out in chunks:
            results[start : start + len(out)] = out
            done += len(out)
            _check_stop(stop)
            throttle(done_before + done)
    finally:
        if pool is not None:  # on stop or error, drop the queued work
            pool.shutdown(wait=True, cancel_futures=True)
    throttle(done_before + n, force=True)
    return results


# Header parsing is mostly Python and holds the GIL, so more threads than a few only add
# contention on a local disk; a few still hide the latency of network shares.
def _io_workers(workers: int | None) -> int:
    return workers or min(4, os.cpu_count() or 1)


# Pillow releases the GIL while decoding and resampling, not while parsing; beyond ~8
# threads contention eats the gain.
def _cpu_workers(workers: int | None) -> int:
    return workers or min(8, os.cpu_count() or 1)


# --------------------------------------------------------------------------- scanning


def _walk(root: Path) -> tuple[list[tuple[tuple[str, ...], str]], list[Skipped]]:
    """All non-hidden files under root as (relative parts, path), sorted by parts.

    Links are followed, but never twice into one folder (a link back up would loop). Paths
    stay strings until a record needs one: a Path per file costs more than its header.
    """
    found: list[tuple[tuple[str, ...], str]] = []
    problems: list[Skipped] = []
    root_stat = root.stat()
    seen = {(root_stat.st_dev, root_stat.st_ino)}
    stack: list[tuple[Path, tuple[str, ...]]] = [(root, ())]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = [e for e in it if not e.name.startswith(".")]
        except OSError as e:
            problems.append(Skipped(folder, f"cannot read folder: {e.strerror or e}"))
            continue
        for entry in entries:
            parts = (*rel, entry.name)
            try:
                if entry.is_dir():
                    st = entry.stat()
                    if (st.st_dev, st.st_ino) not in seen:
                        seen.add((st.st_dev, st.st_ino))
                        stack.append((Path(entry.path), parts))
                elif entry.is_file():
                    found.append((parts, entry.path))
                elif entry.is_symlink() and Path(entry.name).suffix.lower() in IMAGE_SUFFIXES:
                    problems.append(Skipped(Path(entry.path), "broken symbolic link"))
            except OSError as e:
                problems.append(Skipped(Path(entry.path), f"cannot read: {e.strerror or e}"))
    found.sort()
    return found, problems


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


def _record(parts: tuple[str, ...], path: Path, info: ImageInfo) -> ImageRecord:
    return ImageRecord(path, "/".join(parts), parts[0] if len(parts) > 1 else "", info)


def _no_usable_images(root: Path, skipped: Sequence[Skipped]) -> DatasetError:
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
        The folder; scanned recursively, hidden files and folders (".name") ignored,
        symbolic links followed without loops.
    max_pixels : int
        Images with more pixels are skipped.
    min_size : int
        Images whose shorter side is below this (the training size) are skipped.
    progress : callable, optional
        ``progress(done, total)`` over the header reads, about 20 times a second at most.
    stop : threading.Event, optional
        When set, the scan raises :class:`ScanCancelled`.
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
    files, skipped = _walk(root)
    candidates = [
        (parts, p) for parts, p in files if os.path.splitext(p)[1].lower() in IMAGE_SUFFIXES
    ]
    if not candidates:
        raise DatasetError(f"no images found in {root} (checked {len(files)} files)")
    keeper = _Keeper(_KEEP_TOTAL_BYTES)
    seen_before = _HEADERS.get(_HEADERS.key(candidates[0][1])) is not None
    headers = _run_pool(
        lambda p: _header(p, max_pixels, keeper, recall=seen_before),
        [path for _, path in candidates],
        workers=_io_workers(workers),
        progress=progress,
        stop=stop,
    )
    images: list[ImageRecord] = []
    kept: dict[int, tuple[bytes, str]] = {}
    for (parts, path), info in zip(candidates, headers, strict=True):
        if isinstance(info, str):
            skipped.append(Skipped(Path(path), info))
        elif min(info.width, info.height) < min_size:
            reason = f"smaller than the training size: {info.width}x{info.height} < {min_size}"
            skipped.append(Skipped(Path(path), reason))
        else:
            if path in keeper.kept:
                kept[len(images)] = keeper.kept[path]
            images.append(_record(parts, Path(path), info))
    if not images:
        raise _no_usable_images(root, skipped)
    return ScanResult(root, tuple(images), tuple(skipped), kept)


# --------------------------------------------------------------------------- decoding


def _to_gray(arr: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W, 1) with ITU-R 601 luma, same dtype."""
    luma = arr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    top = np.iinfo(arr.dtype).max
    return np.rint(np.clip(luma, 0, top)).astype(arr.dtype)[..., None]


def _resize(
    arr: np.ndarray,
    width: int,
    height: int,
    box: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """LANCZOS resize of (H, W, C) uint8/uint16; 16-bit goes per channel through 'F'."""
    if arr.dtype == np.uint8:
        im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
        out = np.asarray(im.resize((width, height), Image.Resampling.LANCZOS, box=box))
        return out.reshape(height, width, arr.shape[2])
    planes = []
    for c in range(arr.shape[2]):
        im = Image.fromarray(np.ascontiguousarray(arr[..., c], dtype=np.float32))
        planes.append(np.asarray(im.resize((width, height), Image.Resampling.LANCZOS, box=box)))
    out = np.stack(planes, axis=-1)
    return np.rint(np.clip(out, 0, 65535)).astype(np.uint16)


def resize_square(arr: np.ndarray, size: int) -> np.ndarray:
    """Shorter side to size, then centre crop to size x size (one resample via box)."""
    height, width = arr.shape[:2]
    if height == width == size:
        return arr
    m = min(height, width)
    box = ((width - m) / 2, (height - m) / 2, (width + m) / 2, (height + m) / 2)
    return _resize(arr, size, size, box)


@dataclass(frozen=True)
class _Plan:
    """How to turn one decoded file into the set's layout."""

    channels: int
    dtype: np.dtype
    size: int | None = None  # square side, fixed-size mode
    target: tuple[int, int] | None = None  # (width, height), full-size mode downscale


def _prepare(arr: np.ndarray, plan: _Plan) -> np.ndarray:
    """(H, W, C) as read -> (C, H', W') in the set's channels, size and dtype."""
    if plan.channels == 1 and arr.shape[2] == 3:
        arr = _to_gray(arr)  # before resizing: one plane to resample instead of three
    if plan.size is not None:
        arr = resize_square(arr, plan.size)
    elif plan.target is not None:
        arr = _resize(arr, *plan.target)
    if plan.channels == 3 and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if plan.dtype == np.uint16 and arr.dtype == np.uint8:
        arr = arr.astype(np.uint16) * np.uint16(257)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def _decode_one(record: ImageRecord, plan: _Plan, data: bytes | None = None) -> np.ndarray | str:
    """The prepared array, or the reason the file could not be decoded."""
    limit = max(1, record.info.width * record.info.height)  # the size the scan accepted
    try:
        if data is None:
            arr, _ = read_image(record.path, limit, draft=plan.size)
        else:
            arr, _ = read_image(record.path, limit, draft=plan.size, data=data)
        return _prepare(arr, plan)
    except ImageReadError as e:
        return str(e)
    except Exception as e:  # one odd file must not end a decode of thousands
        return f"could not decode: {type(e).__name__}: {e}"


def _label_index(records: Sequence[ImageRecord]) -> tuple[tuple[str, ...], np.ndarray]:
    labels = tuple(sorted({r.label for r in records}))
    lookup = {label: i for i, label in enumerate(labels)}
    return labels, np.array([lookup[r.label] for r in records], dtype=np.int64)


def _gib(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB"


def _decode_fixed(
    scan: ScanResult, plan: _Plan, max_bytes: int, **pool: Any
) -> tuple[np.ndarray, list[int], list[Skipped]]:
    """Decode into one preallocated (N, C, S, S) array; (array, decoded indices, failures)."""
    assert plan.size is not None
    n, s = len(scan.images), plan.size
    need = n * plan.channels * s * s * plan.dtype.itemsize
    if need > max_bytes:
        raise DatasetError(
            f"{n} images of {s}x{s} from {scan.root} need {_gib(need)}, more than the "
            f"limit of {_gib(max_bytes)}; choose a smaller size or fewer images"
        )
    out = np.empty((n, plan.channels, s, s), dtype=plan.dtype)
    batched = _decode_small_pngs(scan, plan, out, pool["progress"], pool["stop"])

    def task(i: int) -> str | None:
        kept = scan._kept.get(i)
        result = _decode_one(scan.images[i], plan, kept[0] if kept else None)
        if isinstance(result, str):
            return result
        out[i] = result
        return None

    rest = [i for i in range(n) if i not in batched]
    rest_reasons = _run_pool(task, rest, **pool, done_before=len(batched), total=n)
    reasons: list[str | None] = [None] * n
    for i, reason in zip(rest, rest_reasons, strict=True):
        reasons[i] = reason
    ok = [i for i, reason in enumerate(reasons) if reason is None]
    failed = [Skipped(scan.images[i].path, r) for i, r in enumerate(reasons) if r is not None]
    return (out if len(ok) == n else out[ok]), ok, failed


def _prepare_stack(stack: np.ndarray, plan: _Plan) -> np.ndarray:
    """(N, S, S, C) already at the set's size -> (N, C', S, S) in its channels and dtype."""
    if plan.channels == 1 and stack.shape[3] == 3:
        stack = _to_gray(stack)
    elif plan.channels == 3 and stack.shape[3] == 1:
        stack = np.repeat(stack, 3, axis=3)
    if plan.dtype == np.uint16 and stack.dtype == np.uint8:
        stack = stack.astype(np.uint16) * np.uint16(257)
    return stack.transpose(0, 3, 1, 2)


def _decode_small_pngs(
    scan: ScanResult,
    plan: _Plan,
    out: np.ndarray,
    progress: Progress | None,
    stop: threading.Event | None,
) -> set[int]:
    """Decode the kept small PNGs together into ``out``; the indices done.

    The rest (other formats, files not kept, anything the batch decoder leaves) are decoded
    one by one afterwards, which also gives their failure reasons.
    """
    candidates = [i for i in sorted(scan._kept) if scan.images[i].info.format == "PNG"]
    done: set[int] = set()
    throttle = _Throttle(progress, len(scan.images))
    if candidates:
        throttle(0, force=True)
    for start in range(0, len(candidates), _BATCH_FILES):
        _check_stop(stop)
        chunk = candidates[start : start + _BATCH_FILES]
        arrays = decode_small_pngs([scan._kept[i][0] for i in chunk])
        same: dict[tuple, list[int]] = {}  # already S x S: prepared as one stack
        for i, arr in zip(chunk, arrays, strict=True):
            if arr is None or arr.dtype.itemsize > plan.dtype.itemsize:
                continue
            if arr.shape[:2] == (plan.size, plan.size):
                same.setdefault((arr.shape, arr.dtype.str), []).append(i)
                continue
            with suppress(Exception):  # left to the one-by-one decode, which says why
                out[i] = _prepare(arr, plan)
                done.add(i)
        by_index = dict(zip(chunk, arrays, strict=True))
        for indices in same.values():
            with suppress(Exception):
                out[indices] = _prepare_stack(np.stack([by_index[i] for i in indices]), plan)
                done.update(indices)
        throttle(len(done))
    return done


def _pixel_cap(pixels: np.ndarray, budget: int) -> int:
    """Largest per-image pixel cap c with sum(min(p, c)) <= budget (water filling)."""
    p = np.sort(pixels.astype(np.int64))
    n = len(p)
    before = np.concatenate([[0], np.cumsum(p)[:-1]])  # pixels of the smaller images
    cost = before + p * (n - np.arange(n))  # total if capped at p[k]
    k = int(np.argmax(cost > budget))
    return int((budget - before[k]) // (n - k))


def _full_size_plans(
    scan: ScanResult, channels: int, dtype: np.dtype, max_bytes: int
) -> tuple[list[_Plan], tuple[str, ...]]:
    """One plan per image; the largest are downscaled when the total exceeds max_bytes."""
    base = _Plan(channels, dtype)
    pixels = np.array([r.info.width * r.info.height for r in scan.images], dtype=np.int64)
    per_pixel = channels * dtype.itemsize
    if int(pixels.sum()) * per_pixel <= max_bytes:
        return [base] * len(pixels), ()
    cap = _pixel_cap(pixels, max_bytes // per_pixel)
    if cap < _MIN_CAP_PIXELS:
        raise DatasetError(
            f"{len(pixels)} images from {scan.root} cannot fit in {_gib(max_bytes)} "
            "even when downscaled; raise the memory limit or use fewer images"
        )
    plans = []
    for record, p in zip(scan.images, pixels, strict=True):
        if p <= cap:
            plans.append(base)
            continue
        scale = math.sqrt(cap / p)
        w = max(1, math.floor(record.info.width * scale))
        h = max(1, math.floor(record.info.height * scale))
        plans.append(_Plan(channels, dtype, target=(w, h)))
    shrunk = sum(p > cap for p in pixels)
    note = (
        f"{shrunk} of {len(pixels)} images were downscaled to at most {cap:,} pixels each "
        f"so that the decoded set fits in {_gib(max_bytes)}"
    )
    return plans, (note,)


def _decode_full(
    scan: ScanResult, plans: list[_Plan], **pool: Any
) -> tuple[list[np.ndarray], list[int], list[Skipped]]:
    def task(i: int) -> np.ndarray | str:
        kept = scan._kept.get(i)
        return _decode_one(scan.images[i], plans[i], kept[0] if kept else None)

    results = _run_pool(task, range(len(plans)), **pool)
    ok = [i for i, r in enumerate(results) if not isinstance(r, str)]
    failed = [Skipped(scan.images[i].path, r) for i, r in enumerate(results) if isinstance(r, str)]
    return [results[i] for i in ok], ok, failed  # type: ignore[misc]


# --------------------------------------------------------------------------- cache


def _cache_key(scan: ScanResult, size: int, channels: int, dtype: np.dtype) -> str:
    """Hash of the folder, every file's (relpath, mtime, size), the size and channels."""
    h = hashlib.sha256()
    head = {
        "v": _CACHE_VERSION,
        "root": str(scan.root.resolve()),
        "size": size,
        "channels": channels,
        "dtype": dtype.str,
    }
    h.update(json.dumps(head, sort_keys=True).encode())
    for i, r in enumerate(scan.images):
        kept = scan._kept.get(i)
        if kept is not None:
            sig = kept[1]  # the decode uses the bytes read at this (mtime, size)
        else:
            try:
                st = os.stat(r.path)
                sig = f"{st.st_mtime_ns}:{st.st_size}"
            except OSError:
                sig = "missing"
        h.update(f"\0{r.relpath}\0{sig}".encode())
    return h.hexdigest()[:40]


def _cache_paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    return cache_dir / f"decoded-{key}.npy", cache_dir / f"decoded-{key}.json"


def _load_cache(
    scan: ScanResult, cache_dir: Path, key: str, dtype: np.dtype
) -> tuple[np.ndarray, list[int], list[Skipped], list[str]] | None:
    """(array, decoded indices, failures, notes) from the cache, or None on any mismatch."""
    npy, meta_path = _cache_paths(cache_dir, key)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("version") != _CACHE_VERSION:
            return None
        # Copy-on-write map: instant, writable for torch.from_numpy, never alters the file.
        arr = np.load(npy, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError, KeyError):
        return None
    by_relpath = {r.relpath: i for i, r in enumerate(scan.images)}
    try:
        ok = [by_relpath[p] for p in meta["decoded"]]
        failed = [Skipped(scan.images[by_relpath[p]].path, why) for p, why in meta["failed"]]
    except (KeyError, TypeError, ValueError):
        return None
    if arr.dtype != dtype or arr.ndim != 4 or arr.shape[0] != len(ok):
        return None
    return arr, ok, failed, list(meta.get("notes", []))


def _store_cache(
    scan: ScanResult,
    cache_dir: Path,
    key: str,
    arr: np.ndarray,
    ok: list[int],
    failed: list[Skipped],
) -> str | None:
    """Write the cache entry (array first, its JSON last); a note if that failed."""
    npy, meta_path = _cache_paths(cache_dir, key)
    relpath = {r.path: r.relpath for r in scan.images} if failed else {}
    meta = {
        "version": _CACHE_VERSION,
        "root": str(scan.root),
        "shape": list(arr.shape),
        "dtype": arr.dtype.str,
        "decoded": [scan.images[i].relpath for i in ok],
        "failed": [[relpath[s.path], s.reason] for s in failed],
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(npy, lambda f: np.save(f, arr, allow_pickle=False))
        # The array is on disk before its JSON names it. The JSON itself need not be: after
        # a crash it is complete or unreadable, and an unreadable one is a cache miss.
        # (One fsync less: tens of milliseconds on a busy disk.)
        atomic_write(meta_path, lambda f: f.write(json.dumps(meta).encode("utf-8")),
                     durable=False)
    except OSError as e:
        return f"could not write the decode cache in {cache_dir}: {e.strerror or e}"
    return None


# --------------------------------------------------------------------------- public decode


def decode_folder(
    scan: ScanResult,
    *,
    size: int | None,
    channels: int | None = None,
    max_bytes: int = 2 * 1024**3,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    workers: int | None = None,
    cache_dir: Path | None = None,
) -> DecodedSet:
    """Decode a scanned folder for training.

    Parameters
    ----------
    scan : ScanResult
        From :func:`scan_folder`.
    size : int or None
        N: every image resized to N x N (shorter side to N with LANCZOS, then centre crop)
        into one (N_images, C, N, N) array. None: full resolution, a list of (C, H, W)
        arrays; when their total exceeds ``max_bytes`` the largest images are downscaled
        to fit and ``notes`` says so.
    channels : int, optional
        1 or 3 (gray -> RGB repeats, RGB -> gray uses ITU-R 601 luma); default
        ``scan.channels``.
    max_bytes : int
        Memory limit of the decoded images. Fixed-size mode raises DatasetError when the
        array would exceed it.
    progress : callable, optional
        ``progress(done, total)`` over files, about 20 times a second at most.
    stop : threading.Event, optional
        When set, decoding raises :class:`ScanCancelled`.
    workers : int, optional
        Most decoding threads (Pillow releases the GIL); default: the CPU count, up to 8.
        Small images are decoded in the calling thread (small PNGs the scan kept all
        together), where threads would only contend for the GIL.
    cache_dir : Path, optional
        Fixed-size mode only: reuse / store the decoded array there (see
        :func:`default_cache_dir`), keyed by the folder, each file's mtime and size, the
        size, channels and bit depth.

    Returns
    -------
    DecodedSet
        uint16 when any source is 16-bit (8-bit ones scaled by 257), else uint8.

    Raises
    ------
    DatasetError
        Nothing decodes, or a fixed-size set would exceed ``max_bytes``.
    ScanCancelled
        ``stop`` was set.
    """
    channels = channels or scan.channels
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if size is not None and size < 1:
        raise ValueError(f"size must be positive, got {size}")
    depth = 16 if any(r.info.bit_depth == 16 for r in scan.images) else 8
    dtype = np.dtype(np.uint16 if depth == 16 else np.uint8)
    pool = {"workers": _cpu_workers(workers), "progress": progress, "stop": stop}
    notes: list[str] = []
    from_cache = False

    if size is None:
        plans, plan_notes = _full_size_plans(scan, channels, dtype, max_bytes)
        notes.extend(plan_notes)
        images, ok, failed = _decode_full(scan, plans, **pool)
    else:
        plan = _Plan(channels, dtype, size=size)
        key = _cache_key(scan, size, channels, dtype) if cache_dir is not None else ""
        cached = _load_cache(scan, Path(cache_dir), key, dtype) if cache_dir else None
        if cached is not None:
            images, ok, failed, cached_notes = cached
            notes.extend(cached_notes)
            from_cache = True
            if progress is not None:
                progress(len(scan.images), len(scan.images))
        else:
            images, ok, failed = _decode_fixed(scan, plan, max_bytes, **pool)
            if cache_dir is not None and ok:
                note = _store_cache(scan, Path(cache_dir), key, images, ok, failed)
                notes.extend([note] if note else [])

    if not ok:
        raise _no_usable_images(scan.root, [*scan.skipped, *failed])
    records = tuple(scan.images[i] for i in ok)
    labels, label_index = _label_index(records)
    return DecodedSet(
        images=images,
        records=records,
        skipped=(*scan.skipped, *failed),
        bit_depth=depth,
        channels=channels,
        labels=labels,
        label_index=label_index,
        notes=tuple(notes),
        from_cache=from_cache,
        size=size,
    )
