"""The run controls under the settings: Start / Pause / Stop / Resume, the progress bar and
the progress, metrics and status lines."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from aestudio.ui.training.widgets import ERROR_STYLE, show_text, small_label

PROGRESS_STEPS = 1000
START_TIP = "Train a new model with these settings."


class RunControls(QWidget):
    """Buttons that start and steer a run, and the lines that report on it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip(START_TIP)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause between batches; press again to continue.")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training; the model trained so far is saved.")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue training the last or the opened model file.")
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.start_button, self.pause_button, self.stop_button,
                       self.resume_button):
            button.setMinimumWidth(10)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p%")
        self.progress_text = small_label("")
        self.metrics_label = QLabel("")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setToolTip("Loss and PSNR on the held-out validation images.")
        self.progress_text.hide()
        self.metrics_label.hide()
        self.status_label = QLabel("Loading the model list…")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.metrics_label)
        layout.addWidget(self.status_label)

    def set_buttons(self, *, can_start: bool, can_resume: bool, running: bool, stopping: bool,
                    waiting: bool, paused: bool, start_problem: str | None = None) -> None:
        """Enable the buttons that make sense in the panel's state.

        Parameters
        ----------
        can_start, can_resume
            Whether a new run, or continuing a model file, may begin now.
        running, stopping, waiting, paused
            A run is in its thread / was asked to stop / waits for the engine / is paused.
        start_problem
            Why Start would refuse the form, shown as its tooltip.
        """
        self.start_button.setEnabled(can_start)
        self.pause_button.setEnabled(running and not stopping)
        self.stop_button.setEnabled((running and not stopping) or waiting)
        self.pause_button.setText("Continue" if paused else "Pause")
        self.resume_button.setEnabled(can_resume)
        self.start_button.setToolTip(f"Fix first: {start_problem}" if start_problem
                                     else START_TIP)

    def set_status(self, text: str, error: bool = False) -> None:
        """The panel's status line (red for errors)."""
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")

    def begin(self) -> None:
        """A run starts: a busy bar until the images are read, no old figures."""
        self.progress_bar.setRange(0, 0)
        show_text(self.progress_text, "")
        show_text(self.metrics_label, "")

    def show_counts(self, done: int, total: int, text: str) -> None:
        """Progress of the image reading (or another counted stage)."""
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)
        show_text(self.progress_text, text)

    def show_fraction(self, fraction: float) -> None:
        """Training progress, 0 to 1 (ends the busy or counted display)."""
        if self.progress_bar.maximum() != PROGRESS_STEPS:
            self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(int(round(fraction * PROGRESS_STEPS)))

    def show_progress_text(self, text: str) -> None:
        show_text(self.progress_text, text)

    def show_metrics(self, text: str) -> None:
        show_text(self.metrics_label, text)

    def end(self) -> None:
        """The run's thread ended: no busy bar left behind."""
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, PROGRESS_STEPS)
