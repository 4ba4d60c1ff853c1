"""Where a new run writes its model file: the Output group and the default file names."""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestudio.core.facts import MODEL_SUFFIX
from aestudio.ui.training.widgets import small_label

MODELS_DIR_ENV = "AESTUDIO_MODELS_DIR"


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


class OutputGroup(QGroupBox):
    """The model file a new run writes (named automatically until the user picks one), and
    the file Resume continues."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Output", parent)
        self.automatic = True  # the name follows the folder and model until edited
        self.confirmed: str | None = None  # a name the save dialog already asked about
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.output_edit = QLineEdit()
        self.output_edit.setToolTip("The model file a new run writes (it is saved on Stop too).")
        self.output_edit.setPlaceholderText("model file (.aemodel)")
        self.output_edit.textEdited.connect(self._on_edited)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(self.output_edit, 1)
        row.addWidget(self.browse_button)
        layout.addLayout(row)
        self.resume_label = small_label("Resume: no model file yet")
        layout.addWidget(self.resume_label)

    def set_path(self, path: str) -> None:
        """Use ``path`` for the next new run (empty: back to the automatic name)."""
        self.output_edit.setText(str(path))
        self.automatic = not path

    def refresh_default(self, folder: str | None, model: str | None) -> None:
        """Follow the folder and model while the name is automatic."""
        if self.automatic and model:
            self.output_edit.setText(str(default_model_path(folder, model)))

    def target(self, folder: str | None, model: str) -> str:
        """The file the next new run writes, with the model suffix."""
        if self.automatic or not self.output_edit.text().strip():
            self.output_edit.setText(str(default_model_path(folder, model)))
            self.automatic = True
        out = str(Path(self.output_edit.text().strip()).expanduser())
        return out if out.endswith(MODEL_SUFFIX) else out + MODEL_SUFFIX

    def show_resume_target(self, path: str | None) -> None:
        """Name the model file Resume continues."""
        if path:
            self.resume_label.setText(f"Resume: {Path(path).name}")
            self.resume_label.setToolTip(path)
        else:
            self.resume_label.setText("Resume: no model file yet")

    def _on_edited(self, text: str) -> None:
        self.automatic = not text.strip()

    def _browse(self) -> None:
        start = self.output_edit.text().strip() or str(models_dir())
        path, _ = QFileDialog.getSaveFileName(self, "Save the model as", start,
                                              f"aestudio models (*{MODEL_SUFFIX})")
        if path:
            # The dialog asked about replacing the name it returned, not one we extend.
            self.confirmed = path if path.endswith(MODEL_SUFFIX) else None
            if not path.endswith(MODEL_SUFFIX):
                path += MODEL_SUFFIX
            self.output_edit.setText(path)
            self.automatic = False
