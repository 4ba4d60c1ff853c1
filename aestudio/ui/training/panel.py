"""The training panel: choose a model and its options, train it, watch it learn.

The panel (a form in a narrow dock) holds the Model, Data & task, Training and Output groups
and the Start / Pause / Stop / Resume buttons with a progress bar. Its monitor widget (loss
curves over a live sample grid) is shown by the main window as the central "Training" tab.

torch is never imported while the panel is built: the model list, the devices and the noise
kinds are filled from a worker (:func:`~aestudio.ui.training.worker.describe_environment`)
when the panel is first shown or first asked to train, or at once when torch is already
loaded. Training runs in a :class:`~aestudio.ui.common.workers.Worker` from the pool.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtGui import QShowEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aestudio.core import events as ev
from aestudio.core.config import DataConfig, TrainConfig, from_dict
from aestudio.ui.common.config_form import ConfigForm, SciSpinBox
from aestudio.ui.common.errors import error_box, first_line
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.training.loss_plot import LossPlot
from aestudio.ui.training.noise_controls import NoiseControls
from aestudio.ui.training.sample_grid import SampleGrid
from aestudio.ui.training.worker import (
    DataReady,
    EnvironmentInfo,
    LiveSnapshot,
    ModelChoice,
    ModelSummary,
    ResumeInfo,
    RunArchitecture,
    TrainRequest,
    describe_environment,
    read_model_summary,
    training_job,
    warm_up_engine,
)

MODELS_DIR_ENV = "AESTUDIO_MODELS_DIR"
MODEL_SUFFIX = ".aemodel"  # the engine's suffix, repeated to keep torch out of start-up
TIME_ONLY_EPOCHS = 100_000  # with a time budget, the trainer reads this as "no epoch limit"
PROGRESS_STEPS = 1000
ENVIRONMENT_DELAY_MS = 300
MODEL_HIDDEN_FIELDS = ("channels", "image_size")
ADVANCED_TRAIN_FIELDS = ("schedule", "weight_decay", "patches_per_epoch", "augment", "amp",
                         "seed", "checkpoint_minutes", "sample_seconds")
DENOISER_ONLY_FIELDS = ("patches_per_epoch", "augment")
ADVANCED_DATA_FIELDS = ("channels", "val_fraction", "max_pixels")
TASK_HELP = {
    "reconstruct": "Learn to reproduce the input images.",
    "denoise": "Learn to remove synthetic noise from clean images.",
    "self-supervised": "Learn to denoise from noisy images alone (no clean targets); "
                       "needs the full-resolution denoiser.",
}
NO_NOISE_REASON = {
    "reconstruct": "No noise: the model learns to reproduce its input.",
    "self-supervised": "No noise is added: the training images are taken to be noisy "
                       "already.",
}
SECONDARY_STYLE = "color: palette(placeholder-text);"
ERROR_STYLE = "color: #b00020;"


def models_dir() -> Path:
    """Where new model files go by default: ``$AESTUDIO_MODELS_DIR`` or ``~/aestudio/models``."""
    env = os.environ.get(MODELS_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / "aestudio" / "models"


def default_model_path(folder: str | None, model: str, when: _dt.datetime | None = None) -> Path:
    """``<models dir>/<folder>-<model>-<yyyymmdd-hhmm>.aemodel``, made unique with ``-2``, ...

    Parameters
    ----------
    folder
        The data set folder (its name is used), or None.
    model
        The registry name of the model.
    when
        The time stamp; now by default.
    """
    stem_folder = Path(folder).name if folder else "model"
    stem_folder = re.sub(r"[^\w.-]+", "_", stem_folder).strip("._") or "data"
    stamp = (when or _dt.datetime.now()).strftime("%Y%m%d-%H%M")
    base = models_dir() / f"{stem_folder}-{model}-{stamp}"
    path = base.with_suffix(MODEL_SUFFIX)
    n = 2
    while path.exists():
        path = Path(f"{base}-{n}{MODEL_SUFFIX}")
        n += 1
    return path


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``?`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def engine_loaded() -> bool:
    """True when torch is already imported, so describing the engine costs little."""
    return "torch" in sys.modules


def _small_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(SECONDARY_STYLE)
    return label


def _show_text(label: QLabel, text: str) -> None:
    """Set a label's text and hide it while empty (no blank gaps in the column)."""
    label.setText(text)
    label.setVisible(bool(text))


def _compact_combo() -> QComboBox:
    combo = QComboBox()
    # Long entries must not widen the dock; the popup still shows them in full.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    return combo


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
        self._models: dict[str, ModelChoice] = {}
        self._folder: str | None = None
        self._model_path: str | None = None  # the file Resume continues
        self._resume_point: tuple[int, int | None] | None = None  # (step, steps per epoch)
        self._pending: tuple[str, dict[str, Any]] | None = None  # a start awaiting the engine
        self._pending_summary: ModelSummary | None = None
        self._summary_path: str | None = None
        self._worker: Worker | None = None
        self._thread: QThread | None = None
        self._finished_seen = False
        self._paused = False
        self._kind = ""
        self._sizes = {"autoencoder": DataConfig().size, "denoiser": DataConfig().patch}
        self._output_auto = True
        self._confirmed_output: str | None = None
        self._total_epochs: int | None = None
        self._run_task: str | None = None  # the task of the run in progress, for the samples
        self._run_id = 0  # tells the runs' weight snapshots apart
        self._architecture: RunArchitecture | None = None  # of the run in progress
        self.error_dialog: QMessageBox | None = None
        self.model_form: ConfigForm | None = None

        self._monitor = TrainingMonitor()
        self.loss_plot = self._monitor.loss_plot
        self.sample_grid = self._monitor.sample_grid
        self._build()
        self._monitor.shown.connect(self._schedule_environment)
        self._update_buttons()
        if engine_loaded():
            # The engine is already loaded (e.g. after another panel used it): fill now.
            self._apply_environment(describe_environment())

    # ------------------------------------------------------------------------ layout
    def _build(self) -> None:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(self._build_model_group())
        column.addWidget(self._build_data_group())
        column.addWidget(self._build_training_group())
        column.addWidget(self._build_output_group())
        column.addStretch(1)
        self._form_content = content

        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = scroll

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train a new model with these settings.")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause between batches; press again to continue.")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop training; the model trained so far is saved.")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue training the last or the opened model file.")
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(lambda: self.request_stop())
        self.resume_button.clicked.connect(lambda: self.resume())
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
        self.progress_text = _small_label("")
        self.metrics_label = QLabel("")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setToolTip("Loss and PSNR on the held-out validation images.")
        self.progress_text.hide()
        self.metrics_label.hide()
        self.status_label = QLabel("Loading the model list…")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        controls = QVBoxLayout()
        controls.setContentsMargins(6, 4, 6, 6)
        controls.setSpacing(4)
        controls.addLayout(buttons)
        controls.addWidget(self.progress_bar)
        controls.addWidget(self.progress_text)
        controls.addWidget(self.metrics_label)
        controls.addWidget(self.status_label)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(scroll, 1)
        layout.addWidget(line)
        layout.addLayout(controls)

    def _build_model_group(self) -> QGroupBox:
        group = QGroupBox("Model")
        self.model_combo = _compact_combo()
        self.model_combo.setToolTip("The architecture to train.")
        self.model_combo.setPlaceholderText("loading the models…")
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.model_summary = _small_label()
        self.model_form_holder = QVBoxLayout()
        self.model_form_holder.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(group)
        layout.addWidget(self.model_combo)
        layout.addWidget(self.model_summary)
        layout.addLayout(self.model_form_holder)
        return group

    def _build_data_group(self) -> QGroupBox:
        group = QGroupBox("Data && task")
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.folder_label = QLabel("no folder chosen")
        self.folder_label.setMinimumWidth(10)
        self.folder_label.setToolTip("Choose the training images in the Dataset panel.")
        form.addRow("Folder", self.folder_label)

        self.task_combo = _compact_combo()
        for task in ("reconstruct", "denoise", "self-supervised"):
            self.task_combo.addItem(task, task)
            self.task_combo.setItemData(self.task_combo.count() - 1, TASK_HELP[task],
                                        Qt.ItemDataRole.ToolTipRole)
        self.task_combo.setToolTip(TrainConfig.__dataclass_fields__["task"].metadata["help"])
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        form.addRow("Task", self.task_combo)

        self.noise = NoiseControls(self)
        self.noise.changed.connect(self._on_noise_changed)
        form.addRow("Noise", self.noise.combo)
        form.addRow("Strength", self.noise.strength)
        form.addRow(self.noise.description)

        self.size_label = QLabel("Image size")
        self.size_spin = QSpinBox()
        self.size_spin.setSuffix(" px")
        self.size_spin.valueChanged.connect(self._on_size_changed)
        form.addRow(self.size_label, self.size_spin)
        self._data_form = form
        form.setRowVisible(self.noise.strength, False)  # until the noise kinds are known
        self._configure_size()
        return group

    def _build_training_group(self) -> QGroupBox:
        group = QGroupBox("Training")
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        fields = TrainConfig.__dataclass_fields__

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, TIME_ONLY_EPOCHS - 1)
        self.epochs_spin.setToolTip(fields["epochs"].metadata["help"])
        self.minutes_spin = SciSpinBox()
        self.minutes_spin.setRange(0.05, 100_000)
        self.minutes_spin.setValue(10)
        self.minutes_spin.setToolTip(fields["max_minutes"].metadata["help"])
        self.length_stack = QStackedWidget()
        self.length_stack.addWidget(self.epochs_spin)
        self.length_stack.addWidget(self.minutes_spin)
        self.length_stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.length_unit = _compact_combo()
        self.length_unit.addItems(["epochs", "minutes"])
        self.length_unit.setToolTip("Train for a number of passes over the images, or for a "
                                    "time budget.")
        self.length_unit.currentIndexChanged.connect(self.length_stack.setCurrentIndex)
        length = QWidget()
        row = QHBoxLayout(length)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.length_stack, 1)
        row.addWidget(self.length_unit)
        form.addRow("Train for", length)

        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, int(fields["batch_size"].metadata["maximum"]))
        self.batch_spin.setToolTip(fields["batch_size"].metadata["help"])
        form.addRow("Batch size", self.batch_spin)
        self.lr_spin = SciSpinBox(log_steps=True)
        self.lr_spin.setRange(float(fields["lr"].metadata["minimum"]),
                              float(fields["lr"].metadata["maximum"]))
        self.lr_spin.setToolTip(fields["lr"].metadata["help"] + " Type e.g. 3e-4.")
        form.addRow("Learning rate", self.lr_spin)
        self.device_combo = _compact_combo()
        self.device_combo.setToolTip(fields["device"].metadata["help"])
        for name in ("auto", "cpu", "cuda", "mps"):
            self.device_combo.addItem(name, name)
        form.addRow("Device", self.device_combo)

        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced options")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setAutoRaise(True)
        self.advanced = QWidget()
        advanced_layout = QVBoxLayout(self.advanced)
        advanced_layout.setContentsMargins(12, 0, 0, 0)  # indented: a sub-section
        self.advanced_train_form = ConfigForm(TrainConfig, only=ADVANCED_TRAIN_FIELDS)
        self.advanced_data_form = ConfigForm(DataConfig, only=ADVANCED_DATA_FIELDS)
        advanced_layout.addWidget(self.advanced_train_form)
        advanced_layout.addWidget(self.advanced_data_form)
        self.advanced.setVisible(False)
        self.advanced_button.toggled.connect(self._toggle_advanced)
        form.addRow(self.advanced_button)
        form.addRow(self.advanced)
        self._set_train_values(TrainConfig())
        return group

    def _build_output_group(self) -> QGroupBox:
        group = QGroupBox("Output")
        layout = QVBoxLayout(group)
        row = QHBoxLayout()
        self.output_edit = QLineEdit()
        self.output_edit.setToolTip("The model file a new run writes (it is saved on Stop too).")
        self.output_edit.setPlaceholderText("model file (.aemodel)")
        self.output_edit.textEdited.connect(self._on_output_edited)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse_output)
        row.addWidget(self.output_edit, 1)
        row.addWidget(self.browse_button)
        layout.addLayout(row)
        self.resume_label = _small_label("Resume: no model file yet")
        layout.addWidget(self.resume_label)
        return group

    # ------------------------------------------------------------------ public API
    def monitor_widget(self) -> QWidget:
        """The loss curves over the live sample grid, for the central "Training" tab."""
        return self._monitor

    def set_folder(self, path: str | None) -> None:
        """Train on the images in ``path`` (None clears the choice)."""
        self._folder = str(path) if path else None
        if self._folder:
            self.folder_label.setText(Path(self._folder).name or self._folder)
            self.folder_label.setToolTip(self._folder)
        else:
            self.folder_label.setText("no folder chosen")
            self.folder_label.setToolTip("Choose the training images in the Dataset panel.")
        self._refresh_output_default()
        self._update_buttons()
        if not self.is_training() and self._env is not None:
            self._set_status(self._idle_message())

    def _idle_message(self) -> str:
        if not self._folder:
            return "Choose a data set folder (Dataset panel), then press Start."
        return f"Ready to train on {Path(self._folder).name or self._folder}."

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
        worker = Worker(lambda _w, p=path: read_model_summary(p), "model-summary")
        worker.succeeded.connect(self._on_summary)
        worker.failed.connect(self._on_summary_failed)
        self._pool.start(worker)

    def set_output_path(self, path: str) -> None:
        """Write the next new run to ``path`` instead of the automatic name."""
        self.output_edit.setText(str(path))
        self._output_auto = not path
        self._refresh_output_default()

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
        if self._thread is None:
            return self._pending is not None
        try:
            return self._thread.isRunning() or self._worker is not None
        except RuntimeError:  # the thread object was already deleted
            return self._worker is not None

    def request_stop(self) -> None:
        """Ask the run to stop (it saves the model) without waiting."""
        self._pending = None
        if self._worker is not None:
            self._worker.request_stop()
            self._set_status("Stopping: saving the model…")
            self.pause_button.setEnabled(False)
            self.stop_button.setEnabled(False)
        self._update_buttons()

    def stop_training(self, wait_ms: int = 15000) -> bool:
        """Stop the run (the engine saves the model) and wait at most ``wait_ms``.

        Returns
        -------
        bool
            True when no run is left in its thread.
        """
        self.request_stop()
        thread = self._thread
        if thread is None:
            return True
        try:
            return bool(thread.wait(wait_ms))
        except RuntimeError:  # already finished and deleted
            return True

    def current_model_path(self) -> str | None:
        """The model file written by the last run or opened, or None."""
        return self._model_path

    def toggle_pause(self) -> None:
        """Pause the run between batches, or continue it."""
        if self._worker is None:
            return
        if self._worker.pause_event.is_set():
            self._worker.pause_event.clear()
            self._paused = False
            self._set_status("Continuing…")
        else:
            self._worker.pause_event.set()
            self._paused = True
            self._set_status("Pausing after this batch…")
        self._update_buttons()

    def is_paused(self) -> bool:
        return self._paused

    def environment_ready(self) -> bool:
        """True once the model list, devices and noise kinds are filled in."""
        return self._env is not None

    def model_names(self) -> list[str]:
        return [self.model_combo.itemData(i) for i in range(self.model_combo.count())]

    def set_model(self, name: str) -> None:
        """Select model ``name`` (its options form is rebuilt)."""
        index = self.model_combo.findData(name)
        if index < 0:
            raise ValueError(f"unknown model {name!r}")
        self.model_combo.setCurrentIndex(index)

    def current_model(self) -> str | None:
        return self.model_combo.currentData()

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
            worker = Worker(lambda _w: describe_environment(), "engine-start")
            worker.succeeded.connect(self._on_environment)
            worker.failed.connect(self._on_environment_failed)
            self._env_worker = worker
            self._pool.start(worker)
        return False

    def _on_environment(self, info: EnvironmentInfo) -> None:
        self._env_worker = None
        self._apply_environment(info)
        if self._worker is None:
            self._pool.start(Worker(lambda _w: warm_up_engine(), "engine-warm-up"))

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
        self._models = {m.name: m for m in info.models}

        device_model = self.device_combo.model()
        for i in range(self.device_combo.count()):
            name = self.device_combo.itemData(i)
            available = info.devices.get(name, False)
            if name == "auto":
                self.device_combo.setItemText(i, f"auto: {info.auto_device}")
            if isinstance(device_model, QStandardItemModel):
                device_model.item(i).setEnabled(available)
            self.device_combo.setItemData(
                i, "" if available else "Not available on this machine.",
                Qt.ItemDataRole.ToolTipRole)

        self.noise.set_kinds(info.noise_kinds, info.noise_syntax)
        self.noise.set_spec(TrainConfig().noise)

        self.model_combo.blockSignals(True)
        for model in info.models:
            self.model_combo.addItem(model.name, model.name)
            self.model_combo.setItemData(self.model_combo.count() - 1, model.summary,
                                         Qt.ItemDataRole.ToolTipRole)
        if info.models:
            self.model_combo.setCurrentIndex(0)  # a placeholder text leaves it at -1
        self.model_combo.blockSignals(False)
        if info.models:
            self._on_model_changed(0)
        self._set_status(self._idle_message())
        if self._pending_summary is not None:
            summary, self._pending_summary = self._pending_summary, None
            self._apply_summary(summary)
        self._update_buttons()
        if self._pending is not None:
            action, overrides = self._pending
            self._pending = None
            self._launch(action, overrides)

    # ------------------------------------------------------------------ form reactions
    def _on_model_changed(self, index: int) -> None:
        name = self.model_combo.itemData(index)
        choice = self._models.get(name)
        if choice is None:
            return
        self.model_summary.setText(choice.summary)
        self.model_combo.setToolTip(choice.summary)
        if self.model_form is not None:
            self.model_form_holder.removeWidget(self.model_form)
            self.model_form.deleteLater()
        self.model_form = ConfigForm(choice.config_cls, hidden=MODEL_HIDDEN_FIELDS)
        self.model_form.changed.connect(self._update_buttons)
        self.model_form_holder.addWidget(self.model_form)
        kind_changed = choice.kind != self._kind
        self._kind = choice.kind
        self._configure_size()  # the limits follow the model's own image size range
        if kind_changed:
            self._enable_task("self-supervised", choice.kind == "denoiser")
            self.task_combo.setCurrentIndex(self.task_combo.findData(
                "denoise" if choice.kind == "denoiser" else "reconstruct"))
            hidden = [] if choice.kind == "denoiser" else list(DENOISER_ONLY_FIELDS)
            hidden += [n for n in self.advanced_train_form.field_names(include_hidden=True)
                       if n not in ADVANCED_TRAIN_FIELDS]
            self.advanced_train_form.set_hidden(hidden)
        self._update_model_context()
        self._refresh_output_default()
        self._update_buttons()

    def _enable_task(self, task: str, enabled: bool) -> None:
        items = self.task_combo.model()
        index = self.task_combo.findData(task)
        if isinstance(items, QStandardItemModel) and index >= 0:
            items.item(index).setEnabled(enabled)

    def _configure_size(self) -> None:
        fields = DataConfig.__dataclass_fields__
        self.size_spin.blockSignals(True)
        if self._kind == "denoiser":
            meta = fields["patch"].metadata
            self.size_label.setText("Patch size")
            self.size_spin.setRange(int(meta["minimum"]), int(meta["maximum"]))
            self.size_spin.setToolTip(meta["help"])
        else:
            meta = fields["size"].metadata
            low, high = int(meta["minimum"]), int(meta["maximum"])
            choice = self._models.get(self.current_model() or "")
            if choice is not None and "image_size" in choice.config_cls.__dataclass_fields__:
                model_meta = choice.config_cls.__dataclass_fields__["image_size"].metadata
                low = max(low, int(model_meta.get("minimum", low)))
                high = min(high, int(model_meta.get("maximum", high)))
            self.size_label.setText("Image size")
            self.size_spin.setRange(low, high)
            self.size_spin.setToolTip(meta["help"])
        self.size_spin.setValue(self._sizes.get(self._kind or "autoencoder", 28))
        self.size_spin.blockSignals(False)

    def _on_size_changed(self, value: int) -> None:
        self._sizes[self._kind or "autoencoder"] = value
        self._update_model_context()

    def _update_model_context(self) -> None:
        if self.model_form is None:
            return
        context: dict[str, Any] = {}
        names = self.model_form.field_names(include_hidden=True)
        if "image_size" in names:
            context["image_size"] = self.size_spin.value()
        self.model_form.set_context(context)
        self._update_buttons()

    def _on_task_changed(self, _index: int = 0) -> None:
        task = self.task_combo.currentData()
        self.noise.set_active(task == "denoise", NO_NOISE_REASON.get(task, ""))
        self.task_combo.setToolTip(TASK_HELP.get(task, ""))

    def _on_noise_changed(self) -> None:
        self._data_form.setRowVisible(self.noise.strength, self.noise.parameter_count() > 0)

    def noise_spec(self) -> str:
        """The noise spec the form describes, e.g. ``gaussian:25``."""
        return self.noise.spec()

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)

    def _on_output_edited(self, text: str) -> None:
        self._output_auto = not text.strip()

    def _browse_output(self) -> None:
        start = self.output_edit.text().strip() or str(models_dir())
        path, _ = QFileDialog.getSaveFileName(self, "Save the model as", start,
                                              f"aestudio models (*{MODEL_SUFFIX})")
        if path:
            # The dialog asked about replacing the name it returned, not one we extend.
            self._confirmed_output = path if path.endswith(MODEL_SUFFIX) else None
            if not path.endswith(MODEL_SUFFIX):
                path += MODEL_SUFFIX
            self.output_edit.setText(path)
            self._output_auto = False

    def _refresh_output_default(self) -> None:
        if self._output_auto and self.current_model():
            self.output_edit.setText(str(default_model_path(self._folder, self.current_model())))

    # ------------------------------------------------------------------ values
    def _set_train_values(self, train: TrainConfig) -> None:
        if train.max_minutes:
            self.length_unit.setCurrentIndex(1)
            self.minutes_spin.setValue(train.max_minutes)
        else:
            self.length_unit.setCurrentIndex(0)
        self.epochs_spin.setValue(min(train.epochs, self.epochs_spin.maximum()))
        self.batch_spin.setValue(train.batch_size)
        self.lr_spin.setValue(train.lr)
        available = self._env.devices if self._env is not None else {}
        device = train.device if available.get(train.device, False) else "auto"
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(device)))
        index = self.task_combo.findData(train.task)
        if index >= 0:
            self.task_combo.setCurrentIndex(index)
        self.noise.set_spec(train.noise)
        self.advanced_train_form.set_values({k: getattr(train, k) for k in ADVANCED_TRAIN_FIELDS})
        self._on_task_changed()

    def _length_values(self) -> dict[str, Any]:
        if self.length_unit.currentIndex() == 1:
            return {"epochs": TIME_ONLY_EPOCHS, "max_minutes": float(self.minutes_spin.value())}
        return {"epochs": int(self.epochs_spin.value()), "max_minutes": None}

    def train_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The training options the form describes (as TrainConfig keyword values)."""
        values = dict(self.advanced_train_form.values())
        values.update(self._length_values())
        values.update(task=self.task_combo.currentData(), noise=self.noise_spec(),
                      batch_size=int(self.batch_spin.value()), lr=float(self.lr_spin.value()),
                      device=self.device_combo.currentData())
        values.update(overrides or {})
        return values

    def data_config(self) -> DataConfig:
        """The data options the form describes."""
        values = dict(self.advanced_data_form.values())
        values["folder"] = self._folder or ""
        key = "patch" if self._kind == "denoiser" else "size"
        values[key] = int(self.size_spin.value())
        return from_dict(DataConfig, values)

    def _apply_summary(self, summary: ModelSummary) -> None:
        if summary.architecture in self._models:
            self.set_model(summary.architecture)
        if self.model_form is not None:
            self.model_form.set_values(summary.model_config)
        size = summary.model_config.get("image_size")
        if self._kind == "denoiser":
            self.size_spin.setValue(summary.data.patch)
        else:
            self.size_spin.setValue(int(size or summary.data.size))
        self._set_train_values(summary.train)
        self.advanced_data_form.set_values({k: getattr(summary.data, k)
                                            for k in ADVANCED_DATA_FIELDS})
        self._model_path = summary.path
        self._summary_path = None
        self._resume_point = (summary.step, summary.steps_per_epoch)
        self.loss_plot.set_history(summary.history)
        self.sample_grid.clear()
        epoch = (f", epoch {summary.step // summary.steps_per_epoch}"
                 if summary.steps_per_epoch else "")
        self._show_resume_target()
        self._set_status(f"Opened {Path(summary.path).name}: step {summary.step}{epoch}. "
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

    def _show_resume_target(self) -> None:
        if self._model_path:
            self.resume_label.setText(f"Resume: {Path(self._model_path).name}")
            self.resume_label.setToolTip(self._model_path)
        else:
            self.resume_label.setText("Resume: no model file yet")

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
        request = self._build_request(action, overrides)
        if request is None:
            return
        self._run(request)

    def _build_request(self, action: str, overrides: dict[str, Any]) -> TrainRequest | None:
        if action == "resume":
            return self._resume_request(overrides)
        if not self._folder:
            self._set_status("Choose a data set folder first (Dataset panel).", error=True)
            return None
        model = self.current_model()
        if model is None or self.model_form is None:
            self._set_status("No model is available.", error=True)
            return None
        problems = [(f"Model: {self.model_form.problem()}" if self.model_form.problem()
                     else None),
                    (f"Advanced: {self.advanced_train_form.problem()}"
                     if self.advanced_train_form.problem() else None),
                    (f"Advanced: {self.advanced_data_form.problem()}"
                     if self.advanced_data_form.problem() else None)]
        problems = [p for p in problems if p]
        try:
            train = from_dict(TrainConfig, self.train_values(overrides))
            data = self.data_config()
            if train.task != "reconstruct":
                from aestudio.core.data.noise import parse_noise

                parse_noise(train.noise)
        except Exception as exc:  # a refused value is a message, never a crash
            problems.append(first_line(str(exc)) or type(exc).__name__)
        if problems:
            self._set_status("Cannot start: " + "; ".join(problems), error=True)
            return None
        if self._output_auto or not self.output_edit.text().strip():
            self.output_edit.setText(str(default_model_path(self._folder, model)))
            self._output_auto = True
        out = str(Path(self.output_edit.text().strip()).expanduser())
        if not out.endswith(MODEL_SUFFIX):
            out += MODEL_SUFFIX
        if Path(out).exists() and out != self._confirmed_output and not self._confirm_replace(out):
            self._set_status("Not started: choose another model file under Output.")
            return None
        self._confirmed_output = None  # a later run to the same file asks again
        return TrainRequest(model=model, model_options=self.model_form.values(), data=data,
                            train=train, out=out)

    def _confirm_replace(self, path: str) -> bool:
        answer = QMessageBox.question(
            self, "Replace the model file?",
            f"{Path(path).name} already exists. Training a new model replaces it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _resume_request(self, overrides: dict[str, Any]) -> TrainRequest | None:
        if not self._model_path:
            self._set_status("No model file to resume: train one or open one first.",
                             error=True)
            return None
        values = self._length_values()
        values.update(batch_size=int(self.batch_spin.value()), lr=float(self.lr_spin.value()),
                      device=self.device_combo.currentData())
        values.update(overrides)
        try:
            from_dict(TrainConfig, {**self.train_values(), **values})
        except Exception as exc:  # refused values are shown, not raised
            self._set_status(f"Cannot resume: {first_line(str(exc))}", error=True)
            return None
        if self._resume_point and values.get("max_minutes") is None:
            step, per_epoch = self._resume_point
            if per_epoch and values["epochs"] * per_epoch <= step:
                done = step // per_epoch
                self._set_status(f"This model has trained {done} epochs already: raise "
                                 f"“Train for” above {done} epochs to continue it.", error=True)
                return None
        return TrainRequest(resume_from=self._model_path, train_overrides=values,
                            folder=self._folder)

    def _run(self, request: TrainRequest) -> None:
        worker = Worker(training_job(request), "training")
        worker.event.connect(self._on_event)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        self._run_id += 1
        self._architecture = None
        self._run_task = request.train.task if request.resume_from is None else None
        self._finished_seen = False
        self._paused = False
        self._total_epochs = None
        self.progress_bar.setRange(0, 0)  # busy until the images are read
        _show_text(self.progress_text, "")
        _show_text(self.metrics_label, "")
        self.sample_grid.clear()
        if request.resume_from is None:
            self.loss_plot.clear()
        what = (f"Resuming {Path(request.resume_from).name}" if request.resume_from
                else f"Starting {request.model}")
        self._set_status(f"{what}: reading the images…")
        self._thread = self._pool.start(worker)
        self._form_content.setEnabled(False)
        self._update_buttons()
        self.running_changed.emit(True)

    def _on_event(self, event: object) -> None:
        if isinstance(event, ev.Progress):
            self._on_progress(event)
        elif isinstance(event, ev.Samples):
            self.sample_grid.show_samples(event.step, event.clean, event.noisy, event.output,
                                          self._run_task)
        elif isinstance(event, ev.Validated):
            self.loss_plot.add_val(event.step, event.val_loss)
            psnr = f", PSNR {event.psnr:.2f} dB" if event.psnr is not None else ""
            _show_text(self.metrics_label, f"Validation loss {event.val_loss:.4g}{psnr} "
                                       f"(epoch {event.epoch})")
        elif isinstance(event, ev.Loading):
            self.progress_bar.setRange(0, max(1, event.total))
            self.progress_bar.setValue(event.done)
            stage = {"scanning": "Reading image headers",
                     "neighbours": "Finding each image's neighbours"}.get(event.stage,
                                                                          "Decoding images")
            _show_text(self.progress_text, f"{stage}: {event.done} of {event.total}")
        elif isinstance(event, ev.Snapshot):
            arch = self._architecture
            if arch is not None:
                self.training_snapshot.emit(LiveSnapshot(self._run_id, event.step, arch.model,
                                                         arch.options, arch.folder, event.state))
        elif isinstance(event, RunArchitecture):
            self._architecture = event
        elif isinstance(event, DataReady):
            self._on_data_ready(event)
        elif isinstance(event, ResumeInfo):
            self._run_task = event.task
            self.loss_plot.set_history(event.history)
        elif isinstance(event, ev.Started):
            self._on_started(event)
        elif isinstance(event, ev.CheckpointSaved):
            self._model_path = event.path
            self._show_resume_target()
            _show_text(self.progress_text, f"Saved the model at step {event.step}")
        elif isinstance(event, ev.Paused):
            self._paused = True
            self._set_status(f"Paused at step {event.step}. Press Continue to go on.")
            self._update_buttons()
        elif isinstance(event, ev.Resumed):
            if self._worker is not None and not self._worker.stop_event.is_set():
                self._paused = False
                self._set_status(f"Training continues from step {event.step}.")
            self._update_buttons()
        elif isinstance(event, ev.Finished):
            self._on_finished(event)

    def _on_data_ready(self, event: DataReady) -> None:
        text = f"Using {event.n_train} training and {event.n_val} validation images"
        if event.skipped_count:
            text += f"; {event.skipped_count} files skipped"
            lines = [f"{Path(p).name}: {reason}" for p, reason in event.skipped]
            if event.skipped_count > len(event.skipped):
                lines.append(f"… and {event.skipped_count - len(event.skipped)} more")
            self.status_label.setToolTip("Skipped files:\n" + "\n".join(lines))
        else:
            self.status_label.setToolTip("")
        for note in event.notes:
            text += f". {note}"
        self._set_status(text + ".")

    def _on_started(self, event: ev.Started) -> None:
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        if event.total_steps and event.steps_per_epoch:
            self._total_epochs = max(1, event.total_steps // event.steps_per_epoch)
        self._resume_point = (event.start_step, event.steps_per_epoch)
        start = f" from step {event.start_step}" if event.start_step else ""
        self._set_status(f"Training {event.model} on {event.device}{start}: "
                         f"{event.n_train} training / {event.n_val} validation images, "
                         f"{event.parameters:,} parameters.")

    def _on_progress(self, event: ev.Progress) -> None:
        self.progress_bar.setValue(int(round(event.fraction * PROGRESS_STEPS)))
        self.loss_plot.add_train(event.step, event.train_loss)
        epoch = event.epoch + (0 if self._total_epochs and event.epoch >= self._total_epochs
                               else 1)
        epochs = f"epoch {epoch}/{self._total_epochs}" if self._total_epochs \
            else f"epoch {epoch}"
        _show_text(self.progress_text,
            f"{epochs} · step {event.step} · {event.images_per_s:,.0f} images/s · "
            f"ETA {format_duration(event.eta_s)}")
        self._monitor.status.setText(f"{epochs}, step {event.step}: training loss "
                                     f"{event.train_loss:.4g}, ETA {format_duration(event.eta_s)}")

    def _on_finished(self, event: ev.Finished) -> None:
        self._finished_seen = True
        self.sample_grid.flush()
        self.loss_plot.redraw(force=True)
        if event.path:
            self._model_path = event.path
            self._resume_point = (event.step, (self._resume_point or (0, None))[1])
            self._show_resume_target()
        if event.reason == "diverged":
            self._set_status(f"Training diverged: {event.message}", error=True)
            self._show_message(QMessageBox.Icon.Warning, "Training diverged",
                               f"Training diverged: {event.message}")
        else:
            if event.reason == "completed":
                self.progress_bar.setValue(PROGRESS_STEPS)
            name = f" Saved {Path(event.path).name}." if event.path else ""
            self._set_status(f"{event.message[:1].upper()}{event.message[1:]}.{name}")
        self.training_finished.emit(event.reason, event.path or "")
        if event.path:
            self.model_ready.emit(event.path)

    def _on_failed(self, message: str, details: str) -> None:
        if self._finished_seen:
            return
        self._finished_seen = True
        self._set_status(f"Training failed: {first_line(message)}", error=True)
        self._show_error("Training failed", message, details)
        self.training_finished.emit("failed", "")

    def _on_worker_finished(self) -> None:
        self._worker = None
        self._thread = None
        self._paused = False
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, PROGRESS_STEPS)
        self._form_content.setEnabled(True)
        self._update_buttons()
        self.running_changed.emit(False)

    # ------------------------------------------------------------------ helpers
    def _update_buttons(self, *_args: object) -> None:
        running = self._worker is not None
        waiting = self._pending is not None
        ready = self._env is not None and not running and not waiting
        self.start_button.setEnabled(ready and bool(self._folder) and self.model_form is not None)
        stopping = running and self._worker.stop_event.is_set()
        self.pause_button.setEnabled(running and not stopping)
        self.stop_button.setEnabled((running and not stopping) or waiting)
        self.pause_button.setText("Continue" if self._paused else "Pause")
        self.resume_button.setEnabled(ready and bool(self._model_path))
        if self.model_form is not None and self.model_form.problem():
            self.start_button.setToolTip(f"Fix first: {self.model_form.problem()}")
        else:
            self.start_button.setToolTip("Train a new model with these settings.")

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
        self._monitor.status.setText(text)
        self.status_message.emit(text)

    def _show_error(self, title: str, message: str, details: str = "") -> None:
        box = error_box(self, title, message, details)
        self._open_dialog(box)

    def _show_message(self, icon: QMessageBox.Icon, title: str, text: str) -> None:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        self._open_dialog(box)

    def _open_dialog(self, box: QMessageBox) -> None:
        # open(), not exec(): no nested event loop inside a signal handler.
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_dialog = box
        box.finished.connect(lambda _result, shown=box: self._forget_dialog(shown))
        box.open()

    def _forget_dialog(self, box: QMessageBox) -> None:
        if self.error_dialog is box:
            self.error_dialog = None
