"""The training monitor (the central "Training" tab): the loss curves over the live sample
grid, and how each run's events appear in it and in the run controls."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from aestudio.core import events as ev
from aestudio.core.training.messages import ResumeInfo
from aestudio.ui.training.controls import RunControls
from aestudio.ui.training.loss_plot import LossPlot
from aestudio.ui.training.sample_grid import SampleGrid
from aestudio.ui.training.widgets import format_duration

STAGE_NAMES = {"scanning": "Reading image headers",
               "neighbours": "Finding each image's neighbours"}


class TrainingMonitor(QWidget):
    """Title and status line over a splitter with the loss plot (top) and sample grid."""

    shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Training")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.status = QLabel("Loading the model list…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loss_plot = LossPlot()
        self.sample_grid = SampleGrid()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.loss_plot)
        self.splitter.addWidget(self.sample_grid)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        self.shown.emit()


class RunProgress:
    """Draws one run's figures: curves, samples, the progress bar and its lines.

    Parameters
    ----------
    monitor, controls
        Where the figures go.
    """

    def __init__(self, monitor: TrainingMonitor, controls: RunControls) -> None:
        self.monitor = monitor
        self.controls = controls
        self.task: str | None = None  # picks the sample rows' labels
        self.total_epochs: int | None = None

    def begin(self, task: str | None, keep_curves: bool) -> None:
        """A run starts (``task`` is None while a resumed file's task is not yet known)."""
        self.task = task
        self.total_epochs = None
        self.controls.begin()
        self.monitor.sample_grid.clear()
        if not keep_curves:
            self.monitor.loss_plot.clear()

    def handle(self, event: object) -> bool:
        """Show ``event`` if it is a figure; False for events this class leaves alone."""
        plot, grid = self.monitor.loss_plot, self.monitor.sample_grid
        if isinstance(event, ev.Progress):
            self._on_progress(event)
        elif isinstance(event, ev.Samples):
            grid.show_samples(event.step, event.clean, event.noisy, event.output, self.task)
        elif isinstance(event, ev.Validated):
            plot.add_val(event.step, event.val_loss)
            psnr = f", PSNR {event.psnr:.2f} dB" if event.psnr is not None else ""
            self.controls.show_metrics(f"Validation loss {event.val_loss:.4g}{psnr} "
                                       f"(epoch {event.epoch})")
        elif isinstance(event, ev.Loading):
            stage = STAGE_NAMES.get(event.stage, "Decoding images")
            self.controls.show_counts(event.done, event.total,
                                      f"{stage}: {event.done} of {event.total}")
        elif isinstance(event, ResumeInfo):
            self.task = event.task
            plot.set_history(event.history)
        else:
            return False
        return True

    def started(self, event: ev.Started) -> None:
        """The first step is next: the bar measures the planned run from here."""
        self.controls.show_fraction(0.0)
        if event.total_steps and event.steps_per_epoch:
            self.total_epochs = max(1, event.total_steps // event.steps_per_epoch)

    def finished(self, completed: bool) -> None:
        """Show the last samples and curves at once."""
        self.monitor.sample_grid.flush()
        self.monitor.loss_plot.redraw(force=True)
        if completed:
            self.controls.show_fraction(1.0)

    def _on_progress(self, event: ev.Progress) -> None:
        self.controls.show_fraction(event.fraction)
        self.monitor.loss_plot.add_train(event.step, event.train_loss)
        total = self.total_epochs
        epoch = event.epoch + (0 if total and event.epoch >= total else 1)
        epochs = f"epoch {epoch}/{total}" if total else f"epoch {epoch}"
        eta = format_duration(event.eta_s)
        self.controls.show_progress_text(f"{epochs} · step {event.step} · "
                                         f"{event.images_per_s:,.0f} images/s · ETA {eta}")
        self.monitor.status.setText(f"{epochs}, step {event.step}: training loss "
                                    f"{event.train_loss:.4g}, ETA {eta}")
