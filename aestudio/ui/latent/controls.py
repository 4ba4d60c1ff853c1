"""The controls around the latent map: the bar above it and the row below it.

:class:`MapBar` chooses the layout (with its PCA components and residual) and the
colouring, and shows the progress of encoding or laying out. :class:`MapFooter` says whether
a click decodes exactly, toggles the decoded grid and offers the exports.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from aestudio.core.latent.map import MIX_NEIGHBOURS, nonlinear_status

APPROXIMATE_TIP = ("t-SNE and UMAP have no inverse: a point decodes a distance-weighted mix of "
                   f"the {MIX_NEIGHBOURS} nearest images' codes.")
HINT = ("Click or drag: decode · Wheel: zoom · Middle-drag or Ctrl+drag: pan "
        "· Shift+click two points: interpolate")
LAYOUT_CHOICES = (("codes", "Codes (exact)"), ("pca", "PCA (exact)"),
                  ("tsne", "t-SNE (approximate)"), ("umap", "UMAP (approximate)"))
COLOUR_CHOICES = (("label", "Label"), ("error", "Reconstruction error"), ("none", "None"))


def select_data(combo: QComboBox, key: str) -> None:
    """Choose the row of ``combo`` whose data is ``key``.

    Raises
    ------
    ValueError
        When no row has that data.
    """
    row = combo.findData(key)
    if row < 0:
        raise ValueError(f"unknown choice {key!r}")
    combo.setCurrentIndex(row)


class MapBar(QWidget):
    """Layout, components, residual and colour choices, with a progress bar and Cancel.

    Signals
    -------
    layout_changed()
        The layout, a component or the residual option changed.
    colour_changed()
        The colouring changed.
    cancel_clicked()
    """

    layout_changed = Signal()
    colour_changed = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_combo = QComboBox()
        self.layout_combo.setToolTip("How codes are placed on the map")
        for key, text in LAYOUT_CHOICES:
            self.layout_combo.addItem(text, key)
        self.pc_x, self.pc_y = QComboBox(), QComboBox()
        self.pc_x.setToolTip("Component on the x axis")
        self.pc_y.setToolTip("Component on the y axis")
        self.residual_box = QCheckBox("Residual")
        self.residual_box.setToolTip("Add the nearest image's residual (its code minus its "
                                     "projection): clicking an image then decodes its own code")
        self.colour_combo = QComboBox()
        self.colour_combo.setToolTip("Colour the points by")
        for key, text in COLOUR_CHOICES:
            self.colour_combo.addItem(text, key)
        # Below the controls' natural width the combos narrow rather than the window grow.
        for combo in (self.layout_combo, self.colour_combo):
            combo.setMinimumWidth(70)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()

        self.layout_combo.currentIndexChanged.connect(lambda _i: self._on_layout())
        for combo in (self.pc_x, self.pc_y):
            combo.currentIndexChanged.connect(lambda _i: self._on_layout())
        self.residual_box.toggled.connect(lambda _on: self._on_layout())
        self.colour_combo.currentIndexChanged.connect(lambda _i: self.colour_changed.emit())
        self.cancel_button.clicked.connect(self.cancel_clicked)

        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        bar.addWidget(QLabel("Layout"))
        bar.addWidget(self.layout_combo)
        self.pc_label, self.pc_label_y = QLabel("x"), QLabel("y")
        for widget in (self.pc_label, self.pc_x, self.pc_label_y, self.pc_y, self.residual_box):
            bar.addWidget(widget)
        bar.addSpacing(10)
        bar.addWidget(QLabel("Colour"))
        bar.addWidget(self.colour_combo)
        bar.addStretch(1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        self.set_layout_choices(2)

    def choice(self) -> tuple[str, tuple[int, int], bool]:
        """The layout chosen, its two axes and the PCA residual option."""
        layout = self.layout_combo.currentData()
        axes = (int(self.pc_x.currentData() or 0), int(self.pc_y.currentData() or 0))
        if layout == "codes":
            axes = (0, 1)
        return layout, axes, self.residual_box.isChecked()

    def colour_mode(self) -> str:
        return str(self.colour_combo.currentData())

    def set_choice(self, layout: str, axes: tuple[int, int], residual: bool) -> None:
        """Choose a layout and its options without emitting ``layout_changed``."""
        for widget in (self.layout_combo, self.pc_x, self.pc_y, self.residual_box):
            widget.blockSignals(True)
        try:
            select_data(self.layout_combo, layout)
            self.pc_x.setCurrentIndex(axes[0])
            self.pc_y.setCurrentIndex(axes[1])
            self.residual_box.setChecked(residual)
        finally:
            for widget in (self.layout_combo, self.pc_x, self.pc_y, self.residual_box):
                widget.blockSignals(False)
        self._update_pca_controls()

    def set_layout_choices(self, dim: int) -> None:
        """Enable the layouts this code length and this installation allow."""
        model = self.layout_combo.model()
        status = nonlinear_status()
        for row in range(self.layout_combo.count()):
            key = self.layout_combo.itemData(row)
            tip, enabled = "", True
            if key == "codes" and dim > 2:
                enabled = False
                tip = f"The codes have {dim} numbers; a map needs PCA, t-SNE or UMAP."
            elif key in status and status[key] is not None:
                enabled, tip = False, str(status[key])
            elif key in status:
                tip = APPROXIMATE_TIP
            model.item(row).setEnabled(enabled)
            self.layout_combo.setItemData(row, tip or None, Qt.ItemDataRole.ToolTipRole)
        components = max(2, min(dim, 10))
        for combo, default in ((self.pc_x, 0), (self.pc_y, 1)):
            combo.blockSignals(True)
            combo.clear()
            for i in range(components):
                combo.addItem(f"PC{i + 1}", i)
            combo.setCurrentIndex(default)
            combo.blockSignals(False)
        self.layout_combo.blockSignals(True)
        self.layout_combo.setCurrentIndex(0 if dim <= 2 else 1)
        self.layout_combo.blockSignals(False)
        self._update_pca_controls()

    def set_busy(self, busy: bool, text: str = "") -> None:
        """Show or hide the progress bar (busy, with no count yet) and Cancel."""
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
            self.progress.setFormat(text)

    def show_progress(self, stage: str, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1) if total else 0)
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage} %v/%m" if total else stage)

    def _on_layout(self) -> None:
        self._update_pca_controls()
        self.layout_changed.emit()

    def _update_pca_controls(self) -> None:
        pca = self.layout_combo.currentData() == "pca"
        for w in (self.pc_label, self.pc_x, self.pc_label_y, self.pc_y, self.residual_box):
            w.setVisible(pca)


class MapFooter(QWidget):
    """Under the map: exact or approximate, the decoded grid, exports, and the mouse hint.

    Signals
    -------
    grid_changed()
        The grid was switched on or off, or its size changed.
    export_requested(str)
        "csv", "npy" (codes and positions) or "anomalies".
    """

    grid_changed = Signal()
    export_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exact_label = QElidingLabel()
        self.exact_label.setToolTip(APPROXIMATE_TIP)
        self.hint = QElidingLabel(HINT)
        self.hint.setStyleSheet("color: palette(mid);")
        for label in (self.exact_label, self.hint):
            # Long text is elided; it never widens the window.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.grid_box = QCheckBox("Decoded grid")
        self.grid_box.setToolTip("Decode an n x n grid over the visible region (updates on "
                                 "zoom and pan). For a VAE shown by its raw codes, the cells "
                                 "hold equal mass of the prior (Gaussian quantiles): smaller "
                                 "where codes are likely")
        self.grid_size = QSpinBox()
        self.grid_size.setRange(4, 32)
        self.grid_size.setValue(16)
        self.grid_size.setToolTip("Images per side of the decoded grid")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for text, kind in (("Codes and positions (CSV)…", "csv"),
                           ("Codes and positions (NPY)…", "npy"),
                           ("Anomalies (CSV)…", "anomalies")):
            menu.addAction(text, lambda k=kind: self.export_requested.emit(k))
        self.export_button.setMenu(menu)
        self.grid_box.toggled.connect(lambda _on: self.grid_changed.emit())
        self.grid_size.valueChanged.connect(lambda _v: self.grid_changed.emit())

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.exact_label, 1)
        row.addWidget(self.grid_box)
        row.addWidget(self.grid_size)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.hint)

    def set_exact(self, exact: bool) -> None:
        """Say whether a click decodes the code at that point or a mix of nearest codes."""
        font = self.exact_label.font()
        font.setBold(not exact)
        self.exact_label.setFont(font)
        self.exact_label.setText("Exact: a click decodes the code at that point" if exact else
                                 f"Approximate: a click decodes a mix of the {MIX_NEIGHBOURS} "
                                 "nearest codes")
