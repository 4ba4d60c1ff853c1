"""The Training group: how long to train, batch size, learning rate, device, and the
Advanced section (a :class:`superqt.QCollapsible`) with the rarer training and data options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QWidget,
)
from superqt import QCollapsible

from aestudio.core.config import DataConfig, TrainConfig
from aestudio.ui.common.config_form import ConfigForm, SciSpinBox
from aestudio.ui.training.widgets import compact_combo

if TYPE_CHECKING:
    from aestudio.core.training.environment import EnvironmentInfo

TIME_ONLY_EPOCHS = 100_000  # with a time budget, the trainer reads this as "no epoch limit"
ADVANCED_TRAIN_FIELDS = ("method", "optimizer", "schedule", "weight_decay", "patches_per_epoch", "augment",
                         "amp", "seed", "checkpoint_minutes", "sample_seconds")
DENOISER_ONLY_FIELDS = ("patches_per_epoch", "augment")
ADVANCED_DATA_FIELDS = ("channels", "val_fraction", "max_pixels")
DEVICES = ("auto", "cpu", "cuda", "mps")
ADVANCED_ANIMATION_MS = 120


class TrainOptionsGroup(QGroupBox):
    """The training options of a new run; the length, batch, rate and device also apply
    when a model file is resumed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        form = QFormLayout(self)
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
        self.length_unit = compact_combo()
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
        self.device_combo = compact_combo()
        self.device_combo.setToolTip(fields["device"].metadata["help"])
        for name in DEVICES:
            self.device_combo.addItem(name, name)
        form.addRow("Device", self.device_combo)

        self.advanced = QCollapsible("Advanced options", expandedIcon="▼", collapsedIcon="▶")
        self.advanced.setDuration(ADVANCED_ANIMATION_MS)
        self.advanced.content().layout().setContentsMargins(12, 0, 0, 0)  # a sub-section
        self.advanced_train_form = ConfigForm(TrainConfig, only=ADVANCED_TRAIN_FIELDS)
        self.advanced_data_form = ConfigForm(DataConfig, only=ADVANCED_DATA_FIELDS)
        self.advanced.addWidget(self.advanced_train_form)
        self.advanced.addWidget(self.advanced_data_form)
        form.addRow(self.advanced)
        self._devices: dict[str, bool] = {}
        self.set_values(TrainConfig())

    def set_devices(self, info: EnvironmentInfo) -> None:
        """Name what ``auto`` picks and disable the devices this machine lacks."""
        self._devices = dict(info.devices)
        items = self.device_combo.model()
        for i in range(self.device_combo.count()):
            name = self.device_combo.itemData(i)
            available = info.devices.get(name, False)
            if name == "auto":
                self.device_combo.setItemText(i, f"auto: {info.auto_device}")
            if isinstance(items, QStandardItemModel):
                items.item(i).setEnabled(available)
            self.device_combo.setItemData(
                i, "" if available else "Not available on this machine.",
                Qt.ItemDataRole.ToolTipRole)

    def show_denoiser_fields(self, denoiser: bool) -> None:
        """Show the options that only patch-trained denoisers use, or hide them."""
        hidden = [] if denoiser else list(DENOISER_ONLY_FIELDS)
        hidden += [n for n in self.advanced_train_form.field_names(include_hidden=True)
                   if n not in ADVANCED_TRAIN_FIELDS]
        self.advanced_train_form.set_hidden(hidden)

    def set_values(self, train: TrainConfig) -> None:
        """Show ``train``'s length, batch size, rate, device and advanced options."""
        if train.max_minutes:
            self.length_unit.setCurrentIndex(1)
            self.minutes_spin.setValue(train.max_minutes)
        else:
            self.length_unit.setCurrentIndex(0)
        self.epochs_spin.setValue(min(train.epochs, self.epochs_spin.maximum()))
        self.batch_spin.setValue(train.batch_size)
        self.lr_spin.setValue(train.lr)
        device = train.device if self._devices.get(train.device, False) else "auto"
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(device)))
        self.advanced_train_form.set_values({k: getattr(train, k) for k in ADVANCED_TRAIN_FIELDS})

    def set_data_values(self, data: DataConfig) -> None:
        """Show ``data``'s advanced options."""
        self.advanced_data_form.set_values({k: getattr(data, k) for k in ADVANCED_DATA_FIELDS})

    def length_values(self) -> dict[str, Any]:
        """``epochs`` and ``max_minutes`` as the length choice says."""
        if self.length_unit.currentIndex() == 1:
            return {"epochs": TIME_ONLY_EPOCHS, "max_minutes": float(self.minutes_spin.value())}
        return {"epochs": int(self.epochs_spin.value()), "max_minutes": None}

    def resume_values(self) -> dict[str, Any]:
        """The options a resumed run takes from the form (the rest comes from the file)."""
        values = self.length_values()
        values.update(batch_size=int(self.batch_spin.value()), lr=float(self.lr_spin.value()),
                      device=self.device_combo.currentData())
        return values

    def values(self) -> dict[str, Any]:
        """This group's training options (as TrainConfig keyword values)."""
        values = dict(self.advanced_train_form.values())
        values.update(self.resume_values())
        return values

    def problems(self) -> list[str]:
        """What the advanced forms refuse, as ``Advanced: ...`` lines."""
        found = (self.advanced_train_form.problem(), self.advanced_data_form.problem())
        return [f"Advanced: {problem}" for problem in found if problem]
