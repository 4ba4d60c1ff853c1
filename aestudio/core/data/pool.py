"""Running per-file work over many files: a probing thread pool, progress and stop.

Shared by the folder scan (:mod:`aestudio.core.data.scan`) and the decode
(:mod:`aestudio.core.data.decode`).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, TypeVar

from aestudio.core.data.records import ScanCancelled

Progress = Callable[[int, int], None]
T = TypeVar("T")
R = TypeVar("R")

_PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress calls a second
# run_pool times this many items in the calling thread; threads take the rest only when
# an item took longer than this.
_PROBE_ITEMS = 64
_THREADS_PAY_OFF_S = 200e-6



class Throttle:
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


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ScanCancelled("stopped")


def run_pool(
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
    check_stop(stop)
    n = len(items)
    throttle = Throttle(progress, done_before + n if total is None else total)
    throttle(done_before, force=True)
    results: list[Any] = [None] * n
    first = 0
    if workers > 1 and n > _PROBE_ITEMS:
        started = time.perf_counter()
        for first in range(_PROBE_ITEMS):
            check_stop(stop)
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
            check_stop(stop)
            throttle(done_before + done)
    finally:
        if pool is not None:  # on stop or error, drop the queued work
            pool.shutdown(wait=True, cancel_futures=True)
    throttle(done_before + n, force=True)
    return results


# Header parsing is mostly Python and holds the GIL, so more threads than a few only add
# contention on a local disk; a few still hide the latency of network shares.
def io_workers(workers: int | None) -> int:
    return workers or min(4, os.cpu_count() or 1)


# Pillow releases the GIL while decoding and resampling, not while parsing; beyond ~8
# threads contention eats the gain.
def cpu_workers(workers: int | None) -> int:
    return workers or min(8, os.cpu_count() or 1)

