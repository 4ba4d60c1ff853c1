"""One training run at a time in a worker thread: start, pause, stop, and its events.

:class:`RunSession` owns the run's worker and the little state a run has (paused, asked to
stop, finished); it draws the figures through
:class:`~aestudio.ui.training.monitor.RunProgress` and tells the panel the rest by signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from aestudio.core import events as ev
from aestudio.core.training.messages import DataReady, LiveSnapshot, RunArchitecture, TrainRequest
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.training.monitor import RunProgress
from aestudio.ui.training.worker import training_job


def data_ready_text(event: DataReady) -> tuple[str, str]:
    """The status line for the loaded images, and a tooltip naming the skipped files."""
    text = f"Using {event.n_train} training and {event.n_val} validation images"
    tooltip = ""
    if event.skipped_count:
        text += f"; {event.skipped_count} files skipped"
        lines = [f"{Path(p).name}: {reason}" for p, reason in event.skipped]
        if event.skipped_count > len(event.skipped):
            lines.append(f"… and {event.skipped_count - len(event.skipped)} more")
        tooltip = "Skipped files:\n" + "\n".join(lines)
    for note in event.notes:
        text += f". {note}"
    return text + ".", tooltip


class RunSession(QObject):
    """The run in progress (at most one).

    Signals
    -------
    status(text, error)
        A line for the panel's status.
    data_tooltip(text)
        The skipped files of the loaded data ("" for none).
    state_changed()
        Running, paused or stopping changed: the buttons need a refresh.
    checkpoint(path, step)
        The model file was written during the run.
    resume_point(step, steps_per_epoch)
        Where the run's model file stands (when training starts).
    finished(event)
        The engine's :class:`~aestudio.core.events.Finished` event.
    failed(message, details)
        The job raised before the engine finished.
    running_changed(running)
        A run began, or its thread ended.
    snapshot(live)
        A :class:`~aestudio.core.training.messages.LiveSnapshot` of an autoencoder's weights.
    """

    status = Signal(str, bool)
    data_tooltip = Signal(str)
    state_changed = Signal()
    checkpoint = Signal(str, int)
    resume_point = Signal(int, object)
    finished = Signal(object)
    failed = Signal(str, str)
    running_changed = Signal(bool)
    snapshot = Signal(object)

    def __init__(self, pool: WorkerPool, progress: RunProgress,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._progress = progress
        self.worker: Worker | None = None
        self.thread: QThread | None = None
        self.paused = False
        self._finished_seen = False
        self._run_id = 0  # tells the runs' weight snapshots apart
        self._architecture: RunArchitecture | None = None

    # ------------------------------------------------------------------ control
    def start(self, request: TrainRequest) -> None:
        """Run ``request`` in a worker from the pool."""
        worker = Worker(training_job(request), "training")
        worker.event.connect(self._on_event)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_worker_finished)
        self.worker = worker
        self._run_id += 1
        self._architecture = None
        self._finished_seen = False
        self.paused = False
        resumed = request.resume_from is not None
        self._progress.begin(None if resumed else request.train.task, keep_curves=resumed)
        what = (f"Resuming {Path(request.resume_from).name}" if resumed
                else f"Starting {request.model}")
        self.status.emit(f"{what}: reading the images…", False)
        self.thread = self._pool.start(worker)
        self.state_changed.emit()
        self.running_changed.emit(True)

    def is_running(self) -> bool:
        """True while the run's worker has not ended."""
        if self.thread is None:
            return False
        try:
            return self.thread.isRunning() or self.worker is not None
        except RuntimeError:  # the thread object was already deleted
            return self.worker is not None

    def stopping(self) -> bool:
        """True once the run was asked to stop."""
        return self.worker is not None and self.worker.stop_event.is_set()

    def request_stop(self) -> None:
        """Ask the run to stop (the engine saves the model)."""
        if self.worker is not None:
            self.worker.request_stop()
            self.status.emit("Stopping: saving the model…", False)

    def wait(self, wait_ms: int) -> bool:
        """Wait at most ``wait_ms`` for the run's thread; True when none is left."""
        thread = self.thread
        if thread is None:
            return True
        try:
            return bool(thread.wait(wait_ms))
        except RuntimeError:  # already finished and deleted
            return True

    def toggle_pause(self) -> None:
        """Pause between batches, or continue."""
        if self.worker is None:
            return
        if self.worker.pause_event.is_set():
            self.worker.pause_event.clear()
            self.paused = False
            self.status.emit("Continuing…", False)
        else:
            self.worker.pause_event.set()
            self.paused = True
            self.status.emit("Pausing after this batch…", False)
        self.state_changed.emit()

    # ------------------------------------------------------------------ events
    def _on_event(self, event: object) -> None:
        if self._progress.handle(event):
            return
        if isinstance(event, ev.Snapshot):
            if self._architecture is not None:
                self.snapshot.emit(LiveSnapshot.of(self._run_id, self._architecture, event))
        elif isinstance(event, RunArchitecture):
            self._architecture = event
        elif isinstance(event, DataReady):
            text, tooltip = data_ready_text(event)
            self.data_tooltip.emit(tooltip)
            self.status.emit(text, False)
        elif isinstance(event, ev.Started):
            self._on_started(event)
        elif isinstance(event, ev.CheckpointSaved):
            self.checkpoint.emit(event.path, event.step)
            self._progress.controls.show_progress_text(f"Saved the model at step {event.step}")
        elif isinstance(event, ev.Paused):
            self.paused = True
            self.status.emit(f"Paused at step {event.step}. Press Continue to go on.", False)
            self.state_changed.emit()
        elif isinstance(event, ev.Resumed):
            if self.worker is not None and not self.worker.stop_event.is_set():
                self.paused = False
                self.status.emit(f"Training continues from step {event.step}.", False)
            self.state_changed.emit()
        elif isinstance(event, ev.Finished):
            self._finished_seen = True
            self._progress.finished(event.reason == "completed")
            self.finished.emit(event)

    def _on_started(self, event: ev.Started) -> None:
        self._progress.started(event)
        self.resume_point.emit(event.start_step, event.steps_per_epoch)
        start = f" from step {event.start_step}" if event.start_step else ""
        self.status.emit(f"Training {event.model} on {event.device}{start}: "
                         f"{event.n_train} training / {event.n_val} validation images, "
                         f"{event.parameters:,} parameters.", False)

    def _on_failed(self, message: str, details: str) -> None:
        if self._finished_seen:
            return
        self._finished_seen = True
        self.failed.emit(message, details)

    def _on_worker_finished(self) -> None:
        self.worker = None
        self.thread = None
        self.paused = False
        self._progress.controls.end()
        self.state_changed.emit()
        self.running_changed.emit(False)
