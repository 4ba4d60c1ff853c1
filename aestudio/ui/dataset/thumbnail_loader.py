"""Decoding thumbnails off the UI thread: newest request first, in one background worker.

:class:`ThumbnailLoader` keeps a queue of requested files and decodes them in one background
:class:`~aestudio.ui.common.workers.Worker`, newest request first (the rows the view shows now
matter more than those scrolled past), and exits when the queue stays empty for a moment.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage

from aestudio.ui.common.workers import Worker, WorkerPool

THUMBNAIL_PIXELS = 128  # decoded size; the view shows them at any smaller icon size
MAX_PENDING = 600  # older requests are dropped when scrolling fast
IDLE_EXIT_S = 1.0  # the decoding thread ends after this long without work


def decode_thumbnail(path: str | Path, size: int = THUMBNAIL_PIXELS) -> QImage:
    """Decode an image file into a QImage whose longer side is ``size``.

    Small images are enlarged by an integer factor with nearest-neighbour, so pixels stay
    sharp; larger ones are shrunk smoothly. Safe to call from any thread (QImage only).

    Parameters
    ----------
    path : str or Path
        Any image the engine reads (8/16-bit, gray or colour, EXIF-rotated).
    size : int
        The longer side of the result.

    Raises
    ------
    aestudio.core.errors.ImageReadError
        When the file cannot be decoded.
    """
    from aestudio.core.io.read import read_image
    from aestudio.ui.common.image_convert import array_to_qimage

    array, _ = read_image(path, draft=size)
    image = array_to_qimage(array)
    longest = max(image.width(), image.height())
    if longest < size:
        factor = max(1, size // longest)
        if factor > 1:
            image = image.scaled(image.width() * factor, image.height() * factor,
                                 Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.FastTransformation)
    elif longest > size:
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image


class ThumbnailLoader(QObject):
    """Decodes requested thumbnails in a background worker; results arrive by ``ready``.

    Parameters
    ----------
    pool : WorkerPool
        Runs the decoding worker (so closing the app stops it with every other job).
    size : int
        Longer side of the decoded thumbnails.
    """

    ready = Signal(object, object)  # key, QImage (None when the file cannot be decoded)

    def __init__(self, pool: WorkerPool, size: int = THUMBNAIL_PIXELS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.size = size
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: OrderedDict[Hashable, str] = OrderedDict()
        self._worker: Worker | None = None
        self._in_flight: Hashable | None = None
        self.decoded = 0  # files decoded so far (for tests and benchmarks)

    def request(self, key: Hashable, path: str | Path) -> None:
        """Queue ``path`` (newest first); ``ready(key, image)`` follows. Call on the UI thread."""
        with self._lock:
            if key == self._in_flight:
                return
            self._pending[key] = str(path)
            self._pending.move_to_end(key)
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
            start = self._worker is None
            if start:
                self._worker = Worker(self._run, name="thumbnails")
                self._worker.event.connect(self._on_result)
        self._wake.set()
        if start:
            self.pool.start(self._worker)

    def pending(self) -> int:
        """Requests not yet decoded."""
        with self._lock:
            return len(self._pending)

    def is_running(self) -> bool:
        """True while the decoding worker is alive."""
        with self._lock:
            return self._worker is not None

    def clear(self) -> None:
        """Drop every queued request."""
        with self._lock:
            self._pending.clear()

    def shutdown(self) -> None:
        """Drop the queue and ask the worker to end (the pool waits for its thread)."""
        with self._lock:
            self._pending.clear()
            worker = self._worker
        if worker is not None:
            worker.request_stop()
        self._wake.set()

    def _run(self, worker: Worker) -> int:
        done = 0
        idle_since = time.monotonic()
        while not worker.stop_event.is_set():
            with self._lock:
                item = self._pending.popitem(last=True) if self._pending else None
                self._in_flight = item[0] if item else None
                if item is None and time.monotonic() - idle_since > IDLE_EXIT_S:
                    # Deciding to exit under the lock: a request made after this starts
                    # a fresh worker instead of queueing to one that is leaving.
                    if self._worker is worker:
                        self._worker = None
                    return done
            if item is None:
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            key, path = item
            try:
                image = decode_thumbnail(path, self.size)
            except Exception:  # an unreadable file gets the "broken" tile, not a crash
                image = None
            with self._lock:
                self._in_flight = None
            worker.emit_event((key, image))
            done += 1
            idle_since = time.monotonic()
        with self._lock:
            if self._worker is worker:
                self._worker = None
        return done

    @Slot(object)
    def _on_result(self, payload: tuple[Hashable, QImage | None]) -> None:
        key, image = payload
        self.decoded += 1
        self.ready.emit(key, image)

