"""The map of the latent explorer: one scatter item for every point, small overlays on top.

Built for tens of thousands of points: a single ``ScatterPlotItem`` in pixel mode with a
handful of shared brushes and no outline pen. Selection, hover, neighbours, interpolation
paths and the decoded grid are separate small items, so changing them never touches the
big one. Nearest-point lookups are done by the caller's own index, not by the scatter.

Mouse: a click or a left-button drag reports map coordinates (``probed``); the wheel zooms;
the middle button, or Ctrl with the left button, pans; the right button opens the usual menu.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QFrame, QGraphicsItem, QLabel, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from aestudio.ui.common.image_convert import array_to_qpixmap

POINT_SIZE = 5
MARKER_COLOUR = "#D55E00"  # Okabe-Ito vermillion
PATH_COLOUR = "#0072B2"  # Okabe-Ito blue
HOVER_MS = 15


class _MapViewBox(pg.ViewBox):
    """A ViewBox whose left button probes the map instead of panning."""

    def __init__(self, view: MapView) -> None:
        super().__init__()
        self._view = view

    def mouseClickEvent(self, ev) -> None:  # pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if ev.double():
                return
            p = self.mapToView(ev.pos())
            self._view.probed.emit(p.x(), p.y(), "click", ev.modifiers())
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # pyqtgraph override
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ev.button() == Qt.MouseButton.LeftButton and not ctrl:
            ev.accept()
            p = self.mapToView(ev.pos())
            phase = "end" if ev.isFinish() else "drag"
            self._view.probed.emit(p.x(), p.y(), phase, ev.modifiers())
            return
        super().mouseDragEvent(ev, axis)


class HoverCard(QFrame):
    """A small floating card: a thumbnail and a caption, shown next to the pointer."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("HoverCard { background: palette(base); border: 1px solid #888;"
                           " border-radius: 4px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.image)
        layout.addWidget(self.caption)
        self.hide()

    def show_at(self, pos: QPointF, image: np.ndarray, caption: str) -> None:
        side = image.shape[0]
        scale = max(1, 84 // max(side, 1))
        self.image.setPixmap(array_to_qpixmap(image, scale))
        self.caption.setText(caption)
        self.adjustSize()
        parent = self.parentWidget()
        x, y = int(pos.x()) + 14, int(pos.y()) + 14
        if parent is not None:
            x = min(x, parent.width() - self.width() - 2)
            y = min(y, parent.height() - self.height() - 2)
            if x < int(pos.x()) < x + self.width() and y < int(pos.y()) < y + self.height():
                x = int(pos.x()) - self.width() - 14
        self.move(max(0, x), max(0, y))
        self.show()
        self.raise_()


class MapView(QWidget):
    """The scatter, the overlays and the decoded-grid image.

    Signals
    -------
    probed(x, y, phase, modifiers)
        A left click ("click"), drag ("drag") or drag end ("end") at map coordinates.
    hovered(x, y, widget_x, widget_y)
        The pointer moved over the plot (throttled to one report every ``HOVER_MS``).
    left()
        The pointer left the plot.
    range_changed()
        The visible region changed (pan or zoom).
    """

    probed = Signal(float, float, str, object)
    hovered = Signal(float, float, float, float)
    left = Signal()
    range_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view_box = _MapViewBox(self)
        self.plot = pg.PlotWidget(viewBox=self.view_box, background="w")
        self.plot.setMinimumSize(200, 160)
        item = self.plot.getPlotItem()
        item.showGrid(x=False, y=False)
        item.hideButtons()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen("#444"))
            axis.setTextPen(pg.mkPen("#222"))
        self.view_box.setMenuEnabled(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

        # Beneath everything: the decoded grid (row-major rows, bottom row first).
        self.grid_item = pg.ImageItem(axisOrder="row-major")
        self.grid_item.setZValue(-10)
        self.grid_item.setOpacity(0.9)
        self.grid_item.hide()
        self.view_box.addItem(self.grid_item)
        # The one big item.
        self.scatter = pg.ScatterPlotItem(pxMode=True, size=POINT_SIZE, pen=None,
                                          antialias=False, hoverable=False)
        self.scatter.setZValue(0)
        # Cached as a pixmap: a moving marker or hover ring repaints a small rectangle, and
        # without the cache every such repaint would redraw all points.
        self.scatter.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.view_box.addItem(self.scatter)
        # Small overlays.
        self.path_item = pg.PlotDataItem(pen=pg.mkPen(PATH_COLOUR, width=2),
                                         symbol="o", symbolSize=6, symbolPen=None,
                                         symbolBrush=pg.mkBrush(PATH_COLOUR))
        self.path_item.setZValue(5)
        self.view_box.addItem(self.path_item)
        self.neighbour_item = pg.ScatterPlotItem(
            pxMode=True, size=POINT_SIZE + 6, brush=None,
            pen=pg.mkPen("#000000", width=1.5))
        self.neighbour_item.setZValue(6)
        self.view_box.addItem(self.neighbour_item)
        self.hover_item = pg.ScatterPlotItem(pxMode=True, size=POINT_SIZE + 8, brush=None,
                                             pen=pg.mkPen("#000000", width=2))
        self.hover_item.setZValue(7)
        self.view_box.addItem(self.hover_item)
        self.endpoint_item = pg.ScatterPlotItem(pxMode=True, size=14, symbol="s",
                                                brush=pg.mkBrush(PATH_COLOUR),
                                                pen=pg.mkPen("w", width=1.5))
        self.endpoint_item.setZValue(8)
        self.view_box.addItem(self.endpoint_item)
        self.marker_item = pg.ScatterPlotItem(pxMode=True, size=18, symbol="+",
                                              brush=pg.mkBrush(MARKER_COLOUR),
                                              pen=pg.mkPen(MARKER_COLOUR, width=2))
        self.marker_item.setZValue(9)
        self.view_box.addItem(self.marker_item)

        self.card = HoverCard(self.plot)
        # Pointer moves come far more often than a hover needs: the first at once, then the
        # latest at most every HOVER_MS.
        self._hover = qthrottled(self._emit_hover, timeout=HOVER_MS, leading=True, parent=self)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.view_box.sigRangeChanged.connect(lambda *_: self.range_changed.emit())

    # -- points -----------------------------------------------------------------------
    def set_points(self, positions: np.ndarray, brushes: np.ndarray | QBrush,
                   order: np.ndarray | None = None) -> None:
        """Show ``positions`` (N, 2); ``brushes`` one QBrush or an object array of N.

        ``order`` draws the points in that order (last on top).
        """
        pos = np.asarray(positions, np.float64)
        if order is not None:
            pos = pos[order]
            if isinstance(brushes, np.ndarray):
                brushes = brushes[order]
        brush = list(brushes) if isinstance(brushes, np.ndarray) else brushes
        self.scatter.setData(pos=pos, brush=brush, pen=None, size=POINT_SIZE)

    def set_axis_titles(self, x: str, y: str) -> None:
        item = self.plot.getPlotItem()
        item.setLabel("bottom", x)
        item.setLabel("left", y)

    def fit(self, positions: np.ndarray) -> None:
        """Show the central 99.8 % of the points with a margin (outliers do not shrink it)."""
        pos = np.asarray(positions, np.float64)
        pos = pos[np.isfinite(pos).all(axis=1)]
        if len(pos) == 0:
            return
        lo, hi = np.quantile(pos, [0.001, 0.999], axis=0) if len(pos) > 1000 else \
            (pos.min(axis=0), pos.max(axis=0))
        span = np.maximum(hi - lo, 1e-6)
        lo, hi = lo - 0.05 * span, hi + 0.05 * span
        self.view_box.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)

    def visible_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def pixel_size(self) -> tuple[float, float]:
        """Map units per screen pixel along x and y."""
        px = self.view_box.viewPixelSize()
        return float(px[0]), float(px[1])

    # -- overlays ----------------------------------------------------------------------
    def set_marker(self, xy: tuple[float, float] | None) -> None:
        self.marker_item.setData(pos=[] if xy is None else [xy])

    def set_neighbours(self, positions: np.ndarray | None) -> None:
        self.neighbour_item.setData(pos=[] if positions is None else np.asarray(positions))

    def set_hover(self, xy: tuple[float, float] | None) -> None:
        self.hover_item.setData(pos=[] if xy is None else [xy])

    def set_endpoints(self, points: list[tuple[float, float]]) -> None:
        self.endpoint_item.setData(pos=points)

    def set_path(self, positions: np.ndarray | None) -> None:
        if positions is None or len(positions) == 0:
            self.path_item.setData([], [])
        else:
            p = np.asarray(positions, np.float64)
            self.path_item.setData(p[:, 0], p[:, 1])

    def set_grid_image(self, mosaic: np.ndarray | None, rect: QRectF | None = None) -> None:
        """Show a decoded mosaic (H, W, C) in [0, 1] over ``rect`` (map coordinates)."""
        if mosaic is None:
            self.grid_item.hide()
            self.scatter.setOpacity(1.0)
            return
        self.scatter.setOpacity(0.35)  # the decoded images are what a grid is for
        pixels = (np.clip(mosaic, 0, 1) * 255 + 0.5).astype(np.uint8)
        if pixels.shape[-1] == 1:
            pixels = pixels[..., 0]
        # Row 0 of a row-major ImageItem is drawn at the smallest y, i.e. at the bottom.
        self.grid_item.setImage(np.ascontiguousarray(pixels[::-1]), levels=(0, 255))
        if rect is not None:
            self.grid_item.setRect(rect)
        self.grid_item.show()

    # -- hover -------------------------------------------------------------------------
    def _emit_hover(self, scene_pos: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            self.left.emit()
            return
        p = self.view_box.mapSceneToView(scene_pos)
        w = self.plot.mapFromScene(scene_pos)
        self.hovered.emit(p.x(), p.y(), float(w.x()), float(w.y()))

    def leaveEvent(self, event) -> None:  # Qt override
        self.left.emit()
        super().leaveEvent(event)


def make_brush(colour: str, alpha: int = 255) -> QBrush:
    """A brush of ``colour`` (#RRGGBB) with ``alpha`` (0-255)."""
    c = QColor(colour)
    c.setAlpha(alpha)
    return QBrush(c)
