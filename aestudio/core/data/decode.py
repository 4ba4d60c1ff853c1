"""Decoding a scanned folder for training: fixed-size stacks or full-size lists.

:func:`decode_folder` turns a scan into arrays, either all resized to S x S in one
(N, C, S, S) array (optionally cached, :mod:`aestudio.core.data.cache`), or kept at full
resolution as a list of (C, H, W) arrays, the largest downscaled to fit a memory limit.
The small PNGs a scan kept in memory are decoded together
(:func:`~aestudio.core.io.png_fast.decode_small_pngs`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aestudio.core.data.cache import cache_key, load_cache, store_cache
from aestudio.core.data.pool import Progress, Throttle, check_stop, cpu_workers, run_pool
from aestudio.core.data.records import DecodedSet, ImageRecord, ScanResult, Skipped
from aestudio.core.data.resize import resize, resize_square, to_gray
from aestudio.core.data.scan import no_usable_images
from aestudio.core.errors import DatasetError, ImageReadError
from aestudio.core.io.png_fast import decode_small_pngs
from aestudio.core.io.read import read_image

__all__ = ["decode_folder"]

# Below this many pixels per image, downscaling to fit memory would make useless images.
_MIN_CAP_PIXELS = 32 * 32
# Small PNGs are decoded together in groups of this many (progress and stop between them).
_BATCH_FILES = 4096


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
        arr = to_gray(arr)  # before resizing: one plane to resample instead of three
    if plan.size is not None:
        arr = resize_square(arr, plan.size)
    elif plan.target is not None:
        arr = resize(arr, *plan.target)
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
    rest_reasons = run_pool(task, rest, **pool, done_before=len(batched), total=n)
    reasons: list[str | None] = [None] * n
    for i, reason in zip(rest, rest_reasons, strict=True):
        reasons[i] = reason
    ok = [i for i, reason in enumerate(reasons) if reason is None]
    failed = [Skipped(scan.images[i].path, r) for i, r in enumerate(reasons) if r is not None]
    return (out if len(ok) == n else out[ok]), ok, failed


def _prepare_stack(stack: np.ndarray, plan: _Plan) -> np.ndarray:
    """(N, S, S, C) already at the set's size -> (N, C', S, S) in its channels and dtype."""
    if plan.channels == 1 and stack.shape[3] == 3:
        stack = to_gray(stack)
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
    throttle = Throttle(progress, len(scan.images))
    if candidates:
        throttle(0, force=True)
    for start in range(0, len(candidates), _BATCH_FILES):
        check_stop(stop)
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

    results = run_pool(task, range(len(plans)), **pool)
    ok = [i for i, r in enumerate(results) if not isinstance(r, str)]
    failed = [Skipped(scan.images[i].path, r) for i, r in enumerate(results) if isinstance(r, str)]
    return [results[i] for i in ok], ok, failed  # type: ignore[misc]


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
        From :func:`~aestudio.core.data.scan.scan_folder`.
    size : int or None
        N: every image resized to N x N (shorter side to N with LANCZOS, then centre crop)
        into one (N_images, C, N, N) array. None: full resolution, a list of (C, H, W)
        arrays; when their total exceeds ``max_bytes`` the largest images are downscaled
        to fit and ``notes`` says so.
    channels : int, optional
        1 or 3 (gray -> RGB repeats, RGB -> gray uses :data:`~aestudio.core.facts.LUMA_WEIGHTS`); default
        ``scan.channels``.
    max_bytes : int
        Memory limit of the decoded images. Fixed-size mode raises DatasetError when the
        array would exceed it.
    progress : callable, optional
        ``progress(done, total)`` over files, about 20 times a second at most.
    stop : threading.Event, optional
        When set, decoding raises :class:`~aestudio.core.data.records.ScanCancelled`.
    workers : int, optional
        Most decoding threads (Pillow releases the GIL); default: the CPU count, up to 8.
        Small images are decoded in the calling thread (small PNGs the scan kept all
        together), where threads would only contend for the GIL.
    cache_dir : Path, optional
        Fixed-size mode only: reuse / store the decoded array there (see
        :func:`~aestudio.core.data.cache.default_cache_dir`), keyed by the folder, each
        file's mtime and size, the size, channels and bit depth.

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
    pool = {"workers": cpu_workers(workers), "progress": progress, "stop": stop}
    notes: list[str] = []
    from_cache = False

    if size is None:
        plans, plan_notes = _full_size_plans(scan, channels, dtype, max_bytes)
        notes.extend(plan_notes)
        images, ok, failed = _decode_full(scan, plans, **pool)
    else:
        plan = _Plan(channels, dtype, size=size)
        key = cache_key(scan, size, channels, dtype) if cache_dir is not None else ""
        cached = load_cache(scan, Path(cache_dir), key, dtype) if cache_dir else None
        if cached is not None:
            images, ok, failed, cached_notes = cached
            notes.extend(cached_notes)
            from_cache = True
            if progress is not None:
                progress(len(scan.images), len(scan.images))
        else:
            images, ok, failed = _decode_fixed(scan, plan, max_bytes, **pool)
            if cache_dir is not None and ok:
                note = store_cache(scan, Path(cache_dir), key, images, ok, failed)
                notes.extend([note] if note else [])

    if not ok:
        raise no_usable_images(scan.root, [*scan.skipped, *failed])
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
