"""Latest-wins background work for the latent explorer.

Dragging across the map or panning with the decoded grid on asks for far more decodes than
can run; only the newest request matters. :class:`LatestOnly` runs one job at a time in the
worker pool and keeps at most one waiting request, replacing it when a newer one arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool


class LatestOnly(QObject):
    """Run ``fn()`` in the background, one at a time, newest request wins.

    Signals
    -------
    done(object, object)
        (tag, result) of each job that ran, in the UI thread.
    failed(str, str)
        Message and traceback of a job that raised.
    """

    done = Signal(object, object)
    failed = Signal(str, str)

    def __init__(self, pool: WorkerPool, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.name = name
        self._relay: JobRelay | None = None
        self._pending: tuple[Callable[[], Any], Any] | None = None

    def request(self, fn: Callable[[], Any], tag: Any = None) -> None:
        """Run ``fn`` now, or after the running job, replacing any request still waiting."""
        self._pending = (fn, tag)
        if self._relay is None:
            self._start_next()

    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self._relay is not None or self._pending is not None

    def cancel(self) -> None:
        """Drop the waiting request and ask the running job to stop."""
        self._pending = None
        if self._relay is not None:
            self._relay.request_stop()

    def _start_next(self) -> None:
        if self._pending is None:
            return
        fn, tag = self._pending
        self._pending = None

        def job(_worker: Worker) -> Any:
            return fn()

        relay = start_job(self.pool, job, self.name, self)
        relay.succeeded.connect(lambda result, t=tag: self.done.emit(t, result))
        relay.failed.connect(lambda message, details: self.failed.emit(message, details))
        relay.finished.connect(self._on_finished)
        self._relay = relay

    def _on_finished(self) -> None:
        self._relay = None
        self._start_next()
