"""The training panel's settings column: the Model, Data & task, Training and Output groups.

It knows the models, devices and noise kinds only once the engine is described
(:meth:`TrainingSettings.apply_environment`); until then its lists are empty. It turns the
form into engine configurations (:meth:`train_values`, :meth:`data_config`) and shows an
opened model file's (:meth:`apply_summary`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QSpinBox, QVBoxLayout, QWidget

from aestudio.core.config import DataConfig, TrainConfig, from_dict
from aestudio.ui.common.config_form import ConfigForm
from aestudio.ui.training.noise_controls import NoiseControls
from aestudio.ui.training.output import OutputGroup
from aestudio.ui.training.train_options import TrainOptionsGroup
from aestudio.ui.training.widgets import compact_combo, small_label

if TYPE_CHECKING:
    from aestudio.core.models.summary import ModelSummary
    from aestudio.core.training.environment import EnvironmentInfo, ModelChoice

MODEL_HIDDEN_FIELDS = ("channels", "image_size")
TASKS = ("reconstruct", "denoise", "self-supervised")
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
NO_FOLDER_TIP = "Choose the training images in the Dataset panel."


class TrainingSettings(QWidget):
    """Everything a new run is made of, as a column of groups.

    Signals
    -------
    changed
        A value that decides whether Start may be pressed changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models: dict[str, ModelChoice] = {}
        self.folder: str | None = None
        self.kind = ""
        self._sizes = {"autoencoder": DataConfig().size, "denoiser": DataConfig().patch}
        self.model_form: ConfigForm | None = None
        self.training = TrainOptionsGroup()
        self.output = OutputGroup()
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(self._build_model_group())
        column.addWidget(self._build_data_group())
        column.addWidget(self.training)
        column.addWidget(self.output)
        column.addStretch(1)
        self.set_train_values(TrainConfig())

    # ------------------------------------------------------------------ layout
    def _build_model_group(self) -> QGroupBox:
        group = QGroupBox("Model")
        self.model_combo = compact_combo()
        self.model_combo.setToolTip("The architecture to train.")
        self.model_combo.setPlaceholderText("loading the models…")
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.model_summary = small_label()
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
        self.folder_label.setToolTip(NO_FOLDER_TIP)
        form.addRow("Folder", self.folder_label)

        self.task_combo = compact_combo()
        for task in TASKS:
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

    # ------------------------------------------------------------------ public API
    def apply_environment(self, info: EnvironmentInfo) -> None:
        """Fill the model list, the devices and the noise kinds; select the first model."""
        self.models = {m.name: m for m in info.models}
        self.training.set_devices(info)
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

    def set_folder(self, path: str | None) -> None:
        """Train on the images in ``path`` (None clears the choice)."""
        self.folder = str(path) if path else None
        if self.folder:
            self.folder_label.setText(Path(self.folder).name or self.folder)
            self.folder_label.setToolTip(self.folder)
        else:
            self.folder_label.setText("no folder chosen")
            self.folder_label.setToolTip(NO_FOLDER_TIP)
        self.refresh_output_default()

    def current_model(self) -> str | None:
        """The registry name of the chosen model, or None before the list is filled."""
        return self.model_combo.currentData()

    def set_model(self, name: str) -> None:
        """Select model ``name`` (its options form is rebuilt)."""
        index = self.model_combo.findData(name)
        if index < 0:
            raise ValueError(f"unknown model {name!r}")
        self.model_combo.setCurrentIndex(index)

    def noise_spec(self) -> str:
        """The noise spec the form describes, e.g. ``gaussian:25``."""
        return self.noise.spec()

    def refresh_output_default(self) -> None:
        """Let an automatic output name follow the folder and the model."""
        self.output.refresh_default(self.folder, self.current_model())

    def problems(self) -> list[str]:
        """What the model and advanced forms refuse, one line each."""
        found = [f"Model: {self.model_form.problem()}"] if self.model_form is not None \
            and self.model_form.problem() else []
        return found + self.training.problems()

    def train_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The training options the form describes (as TrainConfig keyword values)."""
        values = self.training.values()
        values.update(task=self.task_combo.currentData(), noise=self.noise_spec())
        values.update(overrides or {})
        return values

    def data_config(self) -> DataConfig:
        """The data options the form describes."""
        values = dict(self.training.advanced_data_form.values())
        values["folder"] = self.folder or ""
        key = "patch" if self.kind == "denoiser" else "size"
        values[key] = int(self.size_spin.value())
        return from_dict(DataConfig, values)

    def set_train_values(self, train: TrainConfig) -> None:
        """Show ``train``'s options, its task and its noise."""
        self.training.set_values(train)
        index = self.task_combo.findData(train.task)
        if index >= 0:
            self.task_combo.setCurrentIndex(index)
        self.noise.set_spec(train.noise)
        self._on_task_changed()

    def apply_summary(self, summary: ModelSummary) -> None:
        """Show the settings a model file was trained with."""
        if summary.architecture in self.models:
            self.set_model(summary.architecture)
        if self.model_form is not None:
            self.model_form.set_values(summary.model_config)
        if self.kind == "denoiser":
            self.size_spin.setValue(summary.data.patch)
        else:
            self.size_spin.setValue(int(summary.model_config.get("image_size")
                                        or summary.data.size))
        self.set_train_values(summary.train)
        self.training.set_data_values(summary.data)

    # ------------------------------------------------------------------ reactions
    def _on_model_changed(self, index: int) -> None:
        choice = self.models.get(self.model_combo.itemData(index))
        if choice is None:
            return
        self.model_summary.setText(choice.summary)
        self.model_combo.setToolTip(choice.summary)
        if self.model_form is not None:
            self.model_form_holder.removeWidget(self.model_form)
            self.model_form.deleteLater()
        self.model_form = ConfigForm(choice.config_cls, hidden=MODEL_HIDDEN_FIELDS)
        self.model_form.changed.connect(self.changed)
        self.model_form_holder.addWidget(self.model_form)
        kind_changed = choice.kind != self.kind
        self.kind = choice.kind
        self._configure_size()  # the limits follow the model's own image size range
        if kind_changed:
            self._enable_task("self-supervised", choice.kind == "denoiser")
            self.task_combo.setCurrentIndex(self.task_combo.findData(
                "denoise" if choice.kind == "denoiser" else "reconstruct"))
            self.training.show_denoiser_fields(choice.kind == "denoiser")
        self._update_model_context()
        self.refresh_output_default()
        self.changed.emit()

    def _enable_task(self, task: str, enabled: bool) -> None:
        items = self.task_combo.model()
        index = self.task_combo.findData(task)
        if isinstance(items, QStandardItemModel) and index >= 0:
            items.item(index).setEnabled(enabled)

    def _configure_size(self) -> None:
        fields = DataConfig.__dataclass_fields__
        self.size_spin.blockSignals(True)
        if self.kind == "denoiser":
            meta = fields["patch"].metadata
            self.size_label.setText("Patch size")
            self.size_spin.setRange(int(meta["minimum"]), int(meta["maximum"]))
        else:
            meta = fields["size"].metadata
            low, high = int(meta["minimum"]), int(meta["maximum"])
            choice = self.models.get(self.current_model() or "")
            if choice is not None and "image_size" in choice.config_cls.__dataclass_fields__:
                model_meta = choice.config_cls.__dataclass_fields__["image_size"].metadata
                low = max(low, int(model_meta.get("minimum", low)))
                high = min(high, int(model_meta.get("maximum", high)))
            self.size_label.setText("Image size")
            self.size_spin.setRange(low, high)
        self.size_spin.setToolTip(meta["help"])
        self.size_spin.setValue(self._sizes.get(self.kind or "autoencoder", 28))
        self.size_spin.blockSignals(False)

    def _on_size_changed(self, value: int) -> None:
        self._sizes[self.kind or "autoencoder"] = value
        self._update_model_context()

    def _update_model_context(self) -> None:
        if self.model_form is None:
            return
        context: dict[str, Any] = {}
        if "image_size" in self.model_form.field_names(include_hidden=True):
            context["image_size"] = self.size_spin.value()
        self.model_form.set_context(context)
        self.changed.emit()

    def _on_task_changed(self, _index: int = 0) -> None:
        task = self.task_combo.currentData()
        self.noise.set_active(task == "denoise", NO_NOISE_REASON.get(task, ""))
        self.task_combo.setToolTip(TASK_HELP.get(task, ""))

    def _on_noise_changed(self) -> None:
        self._data_form.setRowVisible(self.noise.strength, self.noise.parameter_count() > 0)
