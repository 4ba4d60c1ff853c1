"""Starting a background job and hearing back from it on the UI thread.

A :class:`~aestudio.ui.common.workers.Worker` lives in its own thread, and a plain Python callable
connected to its signals runs in that thread too. :class:`JobRelay` is a QObject that lives
on the UI thread: it receives the worker's signals through queued connections and re-emits
them there, so anything connected to the relay (lambdas included) may touch widgets.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from aestudio.ui.common.workers import JobFn, Worker, WorkerPool


class JobRelay(QObject):
    """The UI-thread twin of one worker's signals; deletes itself when the job ends."""

    event = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    finished = Signal()

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = worker.name
        self.done = False
        # Plain threading.Events outlive the worker's C++ object, deleted with its thread.
        self._stop_event = worker.stop_event
        self._pause_event = worker.pause_event
        worker.event.connect(self._on_event)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)

    def request_stop(self) -> None:
        """Ask the job to stop; safe at any time, even after it ended."""
        self._pause_event.clear()
        self._stop_event.set()

    @property
    def stop_requested(self) -> bool:
        """True once :meth:`request_stop` was called."""
        return self._stop_event.is_set()

    @Slot(object)
    def _on_event(self, obj: Any) -> None:
        self.event.emit(obj)

    @Slot(object)
    def _on_succeeded(self, result: Any) -> None:
        self.succeeded.emit(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self.failed.emit(message, details)

    @Slot()
    def _on_finished(self) -> None:
        self.done = True
        self.finished.emit()
        self.deleteLater()


def start_job(pool: WorkerPool, job: JobFn, name: str, parent: QObject | None = None) -> JobRelay:
    """Run ``job(worker)`` in the background and return its UI-thread relay.

    Parameters
    ----------
    pool : WorkerPool
        Starts the worker's thread and stops it when the app closes.
    job : callable
        Receives the worker (for ``stop_event`` and ``emit_event``); its return value
        arrives by ``relay.succeeded``, an exception by ``relay.failed(message, traceback)``.
    name : str
        Shown in the status bar while the job runs.
    parent : QObject, optional
        Owner of the relay until the job ends.
    """
    worker = Worker(job, name=name)
    relay = JobRelay(worker, parent)
    pool.start(worker)
    return relay
