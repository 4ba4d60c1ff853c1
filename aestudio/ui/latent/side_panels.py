"""The latent explorer's side panels: the legend, the probed point, the anomaly ranking.

:class:`LegendPanel` (left) lists the colours and the map's summary. :class:`SideTabs`
(right) holds :class:`PointPanel`, the image decoded at the pointer with the nearest image,
its reconstruction and its neighbours, and :class:`AnomalyPanel`, the images ranked by
reconstruction error.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aestudio.core.latent.codes import FolderCodes
from aestudio.core.latent.map import LAYOUT_NAMES, LatentMap
from aestudio.core.latent.scores import ranked_by_error
from aestudio.ui.latent.panels import AnomalyList, ImagePane, LegendList, ThumbGrid, caption

NEIGHBOURS = 8
ANOMALIES_SHOWN = 300


class LegendPanel(QWidget):
    """The legend with All / None buttons, and a summary of the map under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.legend = LegendList()
        all_button = QPushButton("All")
        all_button.setToolTip("Highlight every label")
        all_button.clicked.connect(lambda: self.legend.set_checked(None))
        none_button = QPushButton("None")
        none_button.setToolTip("Grey every label, then tick the ones to highlight")
        none_button.clicked.connect(lambda: self.legend.set_checked(set()))
        self.summary = QLabel("Open a model and a folder.")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(caption("Legend"))
        layout.addWidget(self.legend, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(all_button)
        buttons.addWidget(none_button)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        self.setMinimumWidth(90)

    def show_summary(self, data: FolderCodes, latent_map: LatentMap, live: str | None,
                     knn: float | None, decode_ms: float | None,
                     probe: float | None = None) -> None:
        """The map in a few lines: live step, images, code, layout, the map's 5-NN and the
        codes' linear-probe accuracy, decode time."""
        lines = [live] if live else []
        lines += [f"{len(data):,} images", f"{data.latent_dim}-number code",
                  f"layout: {LAYOUT_NAMES[latent_map.layout]}"
                  + ("" if latent_map.exact else " (approximate)")]
        if knn is not None:
            lines.append(f"5-NN label accuracy: {knn:.3f}")
        if probe is not None:
            lines.append(f"linear probe of the codes: {probe:.3f}")
        if decode_ms is not None:
            lines.append(f"one decode: {decode_ms:.1f} ms")
        self.summary.setText("\n".join(lines))


class PointPanel(QWidget):
    """The image decoded at the pointer, the nearest image, its reconstruction, neighbours.

    Signals
    -------
    picked(int)
        A neighbour's thumbnail was clicked: its image index.
    """

    picked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decoded_pane = ImagePane(180)
        self.decoded_info = QLabel("Click the map to decode a point.")
        self.decoded_info.setWordWrap(True)
        self.original_pane = ImagePane(84)
        self.recon_pane = ImagePane(84)
        self.nearest_info = QLabel()
        self.nearest_info.setWordWrap(True)
        self.nearest_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.neighbours = ThumbGrid(4)
        self.neighbours.picked.connect(self.picked)
        layout = QVBoxLayout(self)
        layout.addWidget(caption("Decoded at the pointer"))
        layout.addWidget(self.decoded_pane, 3)
        layout.addWidget(self.decoded_info)
        layout.addWidget(caption("Nearest image and its reconstruction"))
        pair = QHBoxLayout()
        pair.addWidget(self.original_pane)
        pair.addWidget(self.recon_pane)
        layout.addLayout(pair, 2)
        layout.addWidget(self.nearest_info)
        layout.addWidget(caption(f"{NEIGHBOURS} nearest on the map"))
        layout.addWidget(self.neighbours)
        layout.addStretch(0)

    def show_decoded(self, xy: tuple[float, float], code: np.ndarray, image: np.ndarray,
                     exact: bool) -> None:
        """The image decoded at map point ``xy`` from ``code``."""
        self.decoded_pane.set_array(image)
        shown = ", ".join(f"{v:.3g}" for v in code[:6]) + (" …" if len(code) > 6 else "")
        how = "exact" if exact else "approximate (mix of nearest codes)"
        self.decoded_info.setText(f"map ({xy[0]:.3g}, {xy[1]:.3g}) · {how}\nz = ({shown})")

    def show_nearest(self, data: FolderCodes, idx: np.ndarray, dist: np.ndarray) -> None:
        """The nearest image (``idx[0]``), its details and the neighbours' thumbnails."""
        first = int(idx[0])
        self.original_pane.set_array(data.image(first))
        self.nearest_info.setText(f"{data.paths[first]}\nlabel {data.labels[first] or '-'} · "
                                  f"MSE {data.errors[first]:.4f} · distance {dist[0]:.3g}")
        tips = [f"{data.paths[i]} (label {data.labels[i] or '-'})" for i in idx]
        self.neighbours.set_images(data.images_hwc(idx), [int(i) for i in idx], tips)

    def clear(self) -> None:
        for pane in (self.decoded_pane, self.original_pane, self.recon_pane):
            pane.set_array(None)
        self.neighbours.clear()


class AnomalyPanel(QWidget):
    """Images ranked by reconstruction error, with an export button.

    Signals
    -------
    picked(int)
        A row was clicked: its image index.
    export_clicked()
    """

    picked = Signal(int)
    export_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.anomalies = AnomalyList()
        self.anomalies.picked.connect(self.picked)
        export = QPushButton("Export ranking (CSV)…")
        export.clicked.connect(self.export_clicked)
        about = QLabel("Largest reconstruction errors first: images the model finds unusual. "
                       "Click one to show it on the map.")
        about.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(self.anomalies, 1)
        layout.addWidget(export)

    def fill(self, data: FolderCodes) -> None:
        """Show the images with the largest errors first."""
        top = ranked_by_error(data.errors)[:ANOMALIES_SHOWN]
        texts = [f"{rank}. {data.paths[i]}\nlabel {data.labels[i] or '-'} · "
                 f"MSE {data.errors[i]:.4f}" for rank, i in enumerate(top, start=1)]
        self.anomalies.set_rows(top, data.images_hwc(top), texts)


class SideTabs(QTabWidget):
    """The Point and Anomalies tabs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.point = PointPanel()
        self.ranking = AnomalyPanel()
        self.addTab(self.point, "Point")
        self.addTab(self.ranking, "Anomalies")
        self.setMinimumWidth(170)
        self._stale: FolderCodes | None = None  # errors to rank once the tab is shown
        self.currentChanged.connect(lambda _i: self._fill_if_shown())

    def anomalies_shown(self) -> bool:
        return self.currentWidget() is self.ranking

    def rank(self, data: FolderCodes, now: bool = True) -> None:
        """Rank ``data`` by error now, or (``now`` False) once the ranking is shown."""
        self._stale = data
        if now or self.anomalies_shown():
            self._fill_if_shown(force=True)

    def _fill_if_shown(self, force: bool = False) -> None:
        if self._stale is not None and (force or self.anomalies_shown()):
            self.ranking.fill(self._stale)
            self._stale = None
