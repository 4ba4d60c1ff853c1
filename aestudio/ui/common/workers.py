"""Long work off the UI thread: one QObject worker per job, moved to its own QThread.

The wiring follows superqt's ``new_worker_qthread``: thread.started -> worker.run,
worker.finished -> thread.quit, and deleteLater on both. Cancelling is a direct call that
sets a ``threading.Event`` (a queued signal would never reach a thread busy in ``run``).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from aestudio.core.errors import describe_error, is_user_error

JobFn = Callable[["Worker"], Any]


class Worker(QObject):
    """Runs ``job(worker)`` in a QThread and reports through signals.

    The job receives the worker, so it can read ``worker.stop_event`` / ``worker.pause_event``
    and call ``worker.emit_event(obj)`` to send any object to the UI thread.
    """

    event = Signal(object)  # whatever the job reports (core events, progress tuples)
    succeeded = Signal(object)  # the job's return value
    failed = Signal(str, str)  # one-line message, full traceback
    finished = Signal()  # always, after succeeded or failed

    def __init__(self, job: JobFn, name: str = "job") -> None:
        super().__init__()
        self.job = job
        self.name = name
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def emit_event(self, obj: object) -> None:
        """Send ``obj`` to the UI thread (safe from the worker thread)."""
        self.event.emit(obj)

    def request_stop(self) -> None:
        """Ask the job to stop; safe from any thread."""
        self.pause_event.clear()
        self.stop_event.set()

    @Slot()
    def run(self) -> None:
        try:
            self.result = self.job(self)
        except Exception as exc:  # a crash in a worker becomes a dialog, never a dead app
            self.error = exc
            # Expected failures read as one line; only a bug carries its traceback.
            details = "" if is_user_error(exc) else traceback.format_exc()
            self.failed.emit(describe_error(exc), details)
        else:
            self.succeeded.emit(self.result)
        finally:
            self.finished.emit()


class WorkerPool(QObject):
    """Starts workers in their own threads and keeps track of the running ones."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}

    def start(self, worker: Worker) -> QThread:
        """Move ``worker`` to a new QThread and start it."""
        thread = QThread()
        thread.setObjectName(f"aestudio-{worker.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a queued call would never run while the
        # UI thread is blocked in stop_all()'s wait.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(worker.deleteLater)
        # _forget first: its queued call must be posted before deleteLater's, or the thread
        # object can be deleted (dropping the call) while it is still emitting finished.
        thread.finished.connect(lambda w=worker: self._forget(w))
        thread.finished.connect(thread.deleteLater)
        self._running[worker] = thread
        thread.start()
        if len(self._running) == 1:
            self.busy_changed.emit(True)
        return thread

    def _forget(self, worker: Worker) -> None:
        if self._running.pop(worker, None) is not None and not self._running:
            self.busy_changed.emit(False)

    def running(self) -> list[Worker]:
        return list(self._running)

    def stop_all(self, timeout_ms: int = 10_000) -> bool:
        """Ask every worker to stop and wait (bounded); True when all threads ended."""
        threads = list(self._running.items())
        for worker, _ in threads:
            worker.request_stop()
        ok = True
        for _, thread in threads:
            ok = thread.wait(timeout_ms) and ok
        return ok
