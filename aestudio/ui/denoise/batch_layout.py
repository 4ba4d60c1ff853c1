"""The batch panel's widgets: model, queue, output and options, and the run row.

:class:`BatchLayout` is mixed into :class:`~aestudio.ui.denoise.batch_panel.BatchDenoisePanel`;
it only creates and arranges widgets and connects them to the panel's slots.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
)

from aestudio.core.facts import MIN_TILE
from aestudio.ui.denoise.batch_table import PROGRESS_COLUMN, BatchTableModel, ProgressDelegate
from aestudio.ui.denoise.compare_controls import labeled_slider

DEFAULT_OUTPUT_NAME = "denoised"


class BatchLayout:
    """Builds the batch panel's widgets."""

    def _build(self) -> None:
        """Create the panel's widgets and lay them out."""
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(8)

        model_row = QHBoxLayout()
        self.model_label = QLabel("No model: open a trained denoiser (.aemodel).")
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_label.setWordWrap(True)
        self.open_model_button = QPushButton("Open model…")
        self.open_model_button.setToolTip("A saved denoiser; no retraining is needed.")
        self.open_model_button.clicked.connect(self._choose_model)
        model_row.addWidget(QLabel("<b>Model</b>"))
        model_row.addWidget(self.model_label, 1)
        model_row.addWidget(self.open_model_button)
        root.addLayout(model_row)

        files_row = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.setToolTip("Every image in the folder and its subfolders; the "
                                          "output folder mirrors its layout.")
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.count_label = QLabel("")
        for w in (self.add_files_button, self.add_folder_button, self.remove_button,
                  self.clear_button):
            files_row.addWidget(w)
        files_row.addStretch(1)
        files_row.addWidget(self.count_label)
        root.addLayout(files_row)

        self.table_model = BatchTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths from the widest expected text: ResizeToContents does not follow rows
        # added later when other sections stretch.
        metrics = self.table.fontMetrics()
        for column, sample in ((1, "00000 × 00000"), (2, "16-bit gray")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 20)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(PROGRESS_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(PROGRESS_COLUMN, 120)
        self.table.setMinimumHeight(140)
        self.empty_hint = QLabel("Drop image files or folders here, or use Add files / "
                                 "Add folder.")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        root.addWidget(self.table, 1)
        root.addWidget(self.empty_hint)

        options = QGroupBox("Output and options")
        form = QFormLayout(options)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        out_row = QHBoxLayout()
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText(f"<first input folder>/{DEFAULT_OUTPUT_NAME}")
        self.output_edit.textEdited.connect(self._output_edited)
        self.output_edit.textChanged.connect(self._update_output_hint)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_output)
        out_row.addWidget(self.output_edit, 1)
        out_row.addWidget(browse)
        form.addRow("Output folder", out_row)
        self.output_hint = QLabel("")
        self.output_hint.setWordWrap(True)
        form.addRow("", self.output_hint)
        self.amount_slider = labeled_slider(0, 100, 100)
        self.amount_slider.setToolTip("How much of the denoising to apply: 100% is the model's "
                                      "output, lower values mix the original back in.")
        form.addRow("Amount", self.amount_slider)
        self.luma_slider = labeled_slider(0, 100, 100)
        self.luma_slider.setToolTip("Strength on brightness noise; lower it to keep film grain.")
        self.chroma_slider = labeled_slider(0, 100, 100)
        self.chroma_slider.setToolTip("Strength on colour noise.")
        form.addRow("Luma", self.luma_slider)
        form.addRow("Chroma", self.chroma_slider)
        tile_row = QHBoxLayout()
        self.tile_auto = QCheckBox("Automatic")
        self.tile_auto.setChecked(True)
        self.tile_auto.setToolTip("Pick the tile size from the device's free memory; smaller "
                                  "tiles are tried automatically when memory runs out.")
        self.tile_spin = QSpinBox()
        self.tile_spin.setRange(MIN_TILE, 4096)
        self.tile_spin.setSingleStep(64)
        self.tile_spin.setValue(512)
        self.tile_spin.setSuffix(" px")
        self.tile_spin.setEnabled(False)
        self.tile_auto.toggled.connect(lambda on: self.tile_spin.setEnabled(not on))
        tile_row.addWidget(self.tile_auto)
        tile_row.addWidget(self.tile_spin)
        tile_row.addStretch(1)
        form.addRow("Tile size", tile_row)
        root.addWidget(options)

        run_row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current tile; finished files are kept.")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.open_output_button = QPushButton("Open output folder")
        self.open_output_button.clicked.connect(self.open_output_folder)
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.open_output_button)
        root.addLayout(run_row)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.summary_label)

