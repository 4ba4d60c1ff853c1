"""The training panel: choose a model and its options, train it, watch it learn.

The panel (a form in a narrow dock) holds the settings column
(:class:`~aestudio.ui.training.settings.TrainingSettings`) over the run controls
(:class:`~aestudio.ui.training.controls.RunControls`); its monitor widget (loss curves over
a live sample grid, :class:`~aestudio.ui.training.monitor.TrainingMonitor`) is shown by the
main window as the central "Training" tab. This module is the state machine between them.

torch is never imported while the panel is built: the model list, the devices and the noise
kinds are filled from a worker (:func:`~aestudio.core.training.environment.describe_environment`)
when the panel is first shown or first asked to train, or at once when torch is already
loaded. Training runs in a :class:`~aestudio.ui.common.workers.Worker` from the pool.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QMessageBox, QScrollArea, QVBoxLayout, QWidget

from aestudio.core import events as ev
from aestudio.core.models.summary import ModelSummary
from aestudio.core.training.environment import EnvironmentInfo, describe_environment
from aestudio.core.training.messages import TrainRequest
from aestudio.ui.common.errors import error_box, first_line
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.training.controls import RunControls
from aestudio.ui.training.monitor import RunProgress, TrainingMonitor
from aestudio.ui.training.output import default_model_path, models_dir
from aestudio.ui.training.requests import Refusal, check_new_run, check_resume, confirm_replace
from aestudio.ui.training.runner import RunSession
from aestudio.ui.training.settings import TrainingSettings
from aestudio.ui.training.train_options import TIME_ONLY_EPOCHS
from aestudio.ui.training.widgets import format_duration
from aestudio.ui.training.worker import environment_job, summary_job, warm_up_job

if TYPE_CHECKING:
    from aestudio.core.config import DataConfig
    from aestudio.ui.common.config_form import ConfigForm

# Re-exported: the panel's helpers, as callers and tests know them.
__all__ = ["TIME_ONLY_EPOCHS", "TrainingPanel", "default_model_path", "engine_loaded",
           "format_duration", "models_dir"]

ENVIRONMENT_DELAY_MS = 300


def engine_loaded() -> bool:
    """True when torch is already imported, so describing the engine costs little."""
    return "torch" in sys.modules


class TrainingPanel(QWidget):
    """Model, data, task and training options, the run controls and its progress.

    Parameters
    ----------
    pool
        Runs the panel's background jobs (engine loading, model file reading, training).
    """

    status_message = Signal(str)
    running_changed = Signal(bool)
    training_finished = Signal(str, str)  # reason, model path ("" if none)
    model_ready = Signal(str)  # a model file was written (a run ended) or opened
    training_snapshot = Signal(object)  # LiveSnapshot: an autoencoder's weights while it trains

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._env: EnvironmentInfo | None = None
        self._env_worker: Worker | None = None
        self._model_path: str | None = None  # the file Resume continues
        self._resume_point: tuple[int, int | None] | None = None  # (step, steps per epoch)
        self._pending: tuple[str, dict[str, Any]] | None = None  # a start awaiting the engine
        self._pending_summary: ModelSummary | None = None
        self._summary_path: str | None = None
        self.error_dialog: QMessageBox | None = None

        self.settings = TrainingSettings()
        self.controls = RunControls()
        self._monitor = TrainingMonitor()
        self._run = RunSession(pool, RunProgress(self._monitor, self.controls), self)
        self._expose_widgets()
        self._build()
        self.settings.changed.connect(self._update_buttons)
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(lambda: self.request_stop())
        self.resume_button.clicked.connect(lambda: self.resume())
        self._monitor.shown.connect(self._schedule_environment)
        self._connect_run()
        self._update_buttons()
        if engine_loaded():
            # The engine is already loaded (e.g. after another panel used it): fill now.
            self._apply_environment(describe_environment())

    def _expose_widgets(self) -> None:
        # The parts' widgets, by the names the main window, the smoke run and tests use.
        s, t, c = self.settings, self.settings.training, self.controls
        self.model_combo, self.task_combo, self.noise = s.model_combo, s.task_combo, s.noise
        self.size_label, self.size_spin, self.folder_label = s.size_label, s.size_spin, \
            s.folder_label
        self.epochs_spin, self.minutes_spin, self.length_unit = t.epochs_spin, t.minutes_spin, \
            t.length_unit
        self.batch_spin, self.lr_spin, self.device_combo = t.batch_spin, t.lr_spin, \
            t.device_combo
        self.advanced_train_form = t.advanced_train_form
        self.advanced_data_form = t.advanced_data_form
        self.output_edit = s.output.output_edit
        self.start_button, self.pause_button = c.start_button, c.pause_button
        self.stop_button, self.resume_button = c.stop_button, c.resume_button
        self.progress_bar, self.metrics_label = c.progress_bar, c.metrics_label
        self.status_label = c.status_label
        self.loss_plot, self.sample_grid = self._monitor.loss_plot, self._monitor.sample_grid

    def _build(self) -> None:
        scroll = QScrollArea()
        scroll.setWidget(self.settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(scroll, 1)
        layout.addWidget(line)
        layout.addWidget(self.controls)

    # ------------------------------------------------------------------ public API
    @property
    def model_form(self) -> ConfigForm | None:
        """The chosen model's options form (rebuilt with each model), or None before the
        model list is filled."""
        return self.settings.model_form

    def monitor_widget(self) -> QWidget:
        """The loss curves over the live sample grid, for the central "Training" tab."""
        return self._monitor

    def set_folder(self, path: str | None) -> None:
        """Train on the images in ``path`` (None clears the choice).

        Switching to another folder starts afresh: the curves, samples and Resume target of
        the last model go, since they belong to other images.
        """
        previous = self.settings.folder
        # The first folder (at start, maybe after a model file was opened) keeps that model.
        changed = previous is not None and (str(path) if path else None) != previous
        self.settings.set_folder(path)
        if changed and not self.is_training():
            self.loss_plot.clear()
            self.sample_grid.clear()
            self._model_path, self._resume_point, self._summary_path = None, None, None
            self.settings.output.show_resume_target(None)
        self._update_buttons()
        if not self.is_training() and self._env is not None:
            self._set_status(self._idle_message())

    def _idle_message(self) -> str:
        folder = self.settings.folder
        if not folder:
            return "Choose a data set folder (Dataset panel), then press Start."
        return f"Ready to train on {Path(folder).name or folder}."

    def set_model_file(self, path: str) -> None:
        """Show an opened model file's settings so that Resume continues it.

        The file's description is read in a worker; the form, the loss history and the
        Resume target follow when it arrives.
        """
        path = str(path)
        if path in (self._model_path, self._summary_path):
            return  # already shown (also breaks a model_ready -> set_model_file loop)
        if self.is_training():
            self._set_status("Stop training before opening another model for training.")
            return
        self._summary_path = path
        worker = Worker(summary_job(path), "model-summary")
        worker.succeeded.connect(self._on_summary)
        worker.failed.connect(self._on_summary_failed)
        self._pool.start(worker)

    def set_output_path(self, path: str) -> None:
        """Write the next new run to ``path`` instead of the automatic name."""
        self.settings.output.set_path(path)
        self.settings.refresh_output_default()

    def start(self, train_overrides: dict | None = None) -> None:
        """Train a new model with the form's values.

        Parameters
        ----------
        train_overrides
            Training options that replace the form's, e.g. ``{"epochs": 1}``.
        """
        self._launch("start", dict(train_overrides or {}))

    def resume(self, train_overrides: dict | None = None) -> None:
        """Continue training the last written or the opened model file."""
        self._launch("resume", dict(train_overrides or {}))

    def is_training(self) -> bool:
        """True while a run (including its image loading) is in progress."""
        return self._pending is not None or self._run.is_running()

    def request_stop(self) -> None:
        """Ask the run to stop (it saves the model) without waiting."""
        self._pending = None
        self._run.request_stop()
        self._update_buttons()

    def stop_training(self, wait_ms: int = 15000) -> bool:
        """Stop the run (the engine saves the model) and wait at most ``wait_ms``.

        Returns
        -------
        bool
            True when no run is left in its thread.
        """
        self.request_stop()
        return self._run.wait(wait_ms)

    def current_model_path(self) -> str | None:
        """The model file written by the last run or opened, or None."""
        return self._model_path

    def toggle_pause(self) -> None:
        """Pause the run between batches, or continue it."""
        self._run.toggle_pause()

    def is_paused(self) -> bool:
        """True while the run is paused (or pausing)."""
        return self._run.paused

    def environment_ready(self) -> bool:
        """True once the model list, devices and noise kinds are filled in."""
        return self._env is not None

    def model_names(self) -> list[str]:
        """The models offered, in list order."""
        return [self.model_combo.itemData(i) for i in range(self.model_combo.count())]

    def set_model(self, name: str) -> None:
        """Select model ``name`` (its options form is rebuilt)."""
        self.settings.set_model(name)

    def current_model(self) -> str | None:
        """The chosen model's registry name."""
        return self.settings.current_model()

    def noise_spec(self) -> str:
        """The noise spec the form describes, e.g. ``gaussian:25``."""
        return self.settings.noise_spec()

    def train_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The training options the form describes (as TrainConfig keyword values)."""
        return self.settings.train_values(overrides)

    def data_config(self) -> DataConfig:
        """The data options the form describes."""
        return self.settings.data_config()

    # ------------------------------------------------------------------ environment
    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self._schedule_environment()

    def _schedule_environment(self) -> None:
        # Shortly after the first show, so that the window paints before torch is imported.
        if self._env is None and self._env_worker is None:
            QTimer.singleShot(ENVIRONMENT_DELAY_MS, self._ensure_environment)

    def _ensure_environment(self) -> bool:
        """True when the engine is described; otherwise start describing it in a worker."""
        if self._env is not None:
            return True
        if engine_loaded():
            self._apply_environment(describe_environment())
            return True
        if self._env_worker is None:
            worker = Worker(environment_job, "engine-start")
            worker.succeeded.connect(self._on_environment)
            worker.failed.connect(self._on_environment_failed)
            self._env_worker = worker
            self._pool.start(worker)
        return False

    def _on_environment(self, info: EnvironmentInfo) -> None:
        self._env_worker = None
        self._apply_environment(info)
        if self._run.worker is None:
            self._pool.start(Worker(warm_up_job, "engine-warm-up"))

    def _on_environment_failed(self, message: str, details: str) -> None:
        self._env_worker = None
        self._pending = None
        self._set_status(f"The training engine could not start: {message}", error=True)
        self._show_error("The training engine could not start", message, details)
        self._update_buttons()

    def _apply_environment(self, info: EnvironmentInfo) -> None:
        if self._env is not None:
            return
        self._env = info
        self.settings.apply_environment(info)
        self._set_status(self._idle_message())
        if self._pending_summary is not None:
            summary, self._pending_summary = self._pending_summary, None
            self._apply_summary(summary)
        self._update_buttons()
        if self._pending is not None:
            action, overrides = self._pending
            self._pending = None
            self._launch(action, overrides)

    # ------------------------------------------------------------------ model files
    def _apply_summary(self, summary: ModelSummary) -> None:
        self.settings.apply_summary(summary)
        self._model_path = summary.path
        self._summary_path = None
        self._resume_point = (summary.step, summary.steps_per_epoch)
        self.loss_plot.set_history(summary.history)
        self.sample_grid.clear()
        epoch = (f", epoch {summary.step // summary.steps_per_epoch}"
                 if summary.steps_per_epoch else "")
        self.settings.output.show_resume_target(self._model_path)
        self._set_status(f"Opened {summary.name}: step {summary.step}{epoch}. "
                         "Resume continues it.")
        self._update_buttons()
        self.model_ready.emit(summary.path)

    def _on_summary(self, summary: ModelSummary) -> None:
        if self._env is None:
            self._pending_summary = summary
            self._ensure_environment()
            return
        self._apply_summary(summary)

    def _on_summary_failed(self, message: str, _details: str) -> None:
        self._summary_path = None
        self._set_status(f"Cannot continue this model: {first_line(message)}", error=True)

    # ------------------------------------------------------------------ running
    def _launch(self, action: str, overrides: dict[str, Any]) -> None:
        if self.is_training():
            self._set_status("A model is already training.")
            return
        if not self._ensure_environment():
            self._pending = (action, overrides)
            self._set_status("Loading the training engine…")
            self._update_buttons()
            return
        try:
            request = (check_resume(self.settings, self._model_path, self._resume_point,
                                    overrides) if action == "resume"
                       else self._new_run_request(overrides))
        except Refusal as refusal:
            self._set_status(str(refusal), error=True)
            return
        if request is not None:
            self._run.start(request)
            self.settings.setEnabled(False)

    def _new_run_request(self, overrides: dict[str, Any]) -> TrainRequest | None:
        request = check_new_run(self.settings, overrides)
        out = self.settings.output.target(self.settings.folder, request.model)
        output = self.settings.output
        if Path(out).exists() and out != output.confirmed and not confirm_replace(self, out):
            self._set_status("Not started: choose another model file under Output.")
            return None
        output.confirmed = None  # a later run to the same file asks again
        return replace(request, out=out)

    def _connect_run(self) -> None:
        run = self._run
        run.status.connect(self._set_status)
        run.data_tooltip.connect(self.status_label.setToolTip)
        run.state_changed.connect(self._update_buttons)
        run.checkpoint.connect(self._on_checkpoint)
        run.resume_point.connect(lambda step, per_epoch: setattr(
            self, "_resume_point", (step, per_epoch)))
        run.finished.connect(self._on_finished)
        run.failed.connect(self._on_failed)
        run.running_changed.connect(self._on_running_changed)
        run.snapshot.connect(self.training_snapshot)

    def _on_checkpoint(self, path: str, _step: int) -> None:
        self._model_path = path
        self.settings.output.show_resume_target(path)

    def _on_finished(self, event: ev.Finished) -> None:
        if event.path:
            self._model_path = event.path
            self._resume_point = (event.step, (self._resume_point or (0, None))[1])
            self.settings.output.show_resume_target(event.path)
        if event.reason == "diverged":
            self._set_status(f"Training diverged: {event.message}", error=True)
            self._show_message(QMessageBox.Icon.Warning, "Training diverged",
                               f"Training diverged: {event.message}")
        else:
            name = f" Saved {Path(event.path).name}." if event.path else ""
            self._set_status(f"{event.message[:1].upper()}{event.message[1:]}.{name}")
        self.training_finished.emit(event.reason, event.path or "")
        if event.path:
            self.model_ready.emit(event.path)

    def _on_failed(self, message: str, details: str) -> None:
        self._set_status(f"Training failed: {first_line(message)}", error=True)
        self._show_error("Training failed", message, details)
        self.training_finished.emit("failed", "")

    def _on_running_changed(self, running: bool) -> None:
        if not running:
            self.settings.setEnabled(True)
        self._update_buttons()
        self.running_changed.emit(running)

    # ------------------------------------------------------------------ helpers
    def _update_buttons(self, *_args: object) -> None:
        running = self._run.worker is not None
        waiting = self._pending is not None
        ready = self._env is not None and not running and not waiting
        form = self.settings.model_form
        self.controls.set_buttons(
            can_start=ready and bool(self.settings.folder) and form is not None,
            can_resume=ready and bool(self._model_path), running=running,
            stopping=self._run.stopping(), waiting=waiting, paused=self._run.paused,
            start_problem=form.problem() if form is not None else None)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.controls.set_status(text, error)
        self._monitor.status.setText(text)
        self.status_message.emit(text)

    def _show_error(self, title: str, message: str, details: str = "") -> None:
        self._open_dialog(error_box(self, title, message, details))

    def _show_message(self, icon: QMessageBox.Icon, title: str, text: str) -> None:
        self._open_dialog(QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self))

    def _open_dialog(self, box: QMessageBox) -> None:
        # open(), not exec(): no nested event loop inside a signal handler.
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_dialog = box
        box.finished.connect(lambda _result, shown=box: self._forget_dialog(shown))
        box.open()

    def _forget_dialog(self, box: QMessageBox) -> None:
        if self.error_dialog is box:
            self.error_dialog = None
