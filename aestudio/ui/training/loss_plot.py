"""Training and validation loss curves, drawn from growing numpy buffers.

Points are appended to preallocated arrays and the two curves are redrawn with ``setData``
at most a few times per second, so a long run costs one plot item per curve, never one item
per point. The view follows the data in steps (see :func:`frame_range`), so that the axes,
whose labels and grid cost most of a repaint, are drawn again a few times a run rather than
at every redraw: the window stays responsive while a model trains.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
TRAIN_COLOUR = "#0072B2"  # blue
VAL_COLOUR = "#D55E00"  # vermillion
REDRAW_MS = 200
MAX_POINTS = 20_000
GRID_SHADE = 0.13  # grid lines: this share of the text colour over the background


# Upper ends of the step axis: 1, 1.2, 1.5, ... 8 times a power of ten.
NICE_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) >= value."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in NICE_STEPS if m * power >= value * (1 - 1e-12))


def frame_range(low: float, high: float, frame: tuple[float, float] | None,
                ) -> tuple[float, float]:
    """The y interval shown for data in [low, high], kept from ``frame`` while it fits.

    The frame moves only when the data leave it or fill less than half of it, and then takes
    a margin of 5 % of the data's span each side.
    """
    if frame is not None:
        f_low, f_high = frame
        if f_low <= low and high <= f_high and (high - low) >= 0.5 * (f_high - f_low):
            return frame
    pad = 0.05 * ((high - low) or abs(high) or 1.0)
    return low - pad, high + pad


def _mix(top: QColor, base: QColor, share: float) -> QColor:
    """``share`` of ``top`` over ``base``, as one opaque colour."""
    return QColor.fromRgbF(*(share * a + (1 - share) * b for a, b in zip(
        top.getRgbF()[:3], base.getRgbF()[:3], strict=True)))


class PointBuffer:
    """Append-only (x, y) points in numpy arrays that double when full.

    When more than ``limit`` points are held, every other point of the older half is dropped,
    so the curve keeps its shape while memory and drawing time stay bounded.
    """

    def __init__(self, capacity: int = 1024, limit: int = MAX_POINTS) -> None:
        self._xy = np.empty((capacity, 2), dtype=np.float64)
        self._n = 0
        self.limit = limit

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float) -> None:
        if self._n == len(self._xy):
            grown = np.empty((2 * len(self._xy), 2), dtype=np.float64)
            grown[: self._n] = self._xy[: self._n]
            self._xy = grown
        self._xy[self._n] = (x, y)
        self._n += 1
        if self._n > self.limit:
            half = self._n // 2
            kept = np.concatenate([self._xy[:half:2], self._xy[half:self._n]])
            self._n = len(kept)
            self._xy[: self._n] = kept

    def extend(self, points: Iterable[Sequence[float]]) -> None:
        for x, y in points:
            self.append(float(x), float(y))

    def clear(self) -> None:
        self._n = 0

    @property
    def x(self) -> np.ndarray:
        return self._xy[: self._n, 0]

    @property
    def y(self) -> np.ndarray:
        return self._xy[: self._n, 1]


class LossPlot(QWidget):
    """A loss-against-step plot with a training curve, a validation curve and a log-scale box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train = PointBuffer()
        self.val = PointBuffer()
        self._dirty = False

        self.plot_widget = pg.PlotWidget(background=self.palette().base().color())
        item = self.plot_widget.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "loss")
        item.getAxis("left").enableAutoSIPrefix(False)  # "0.65", not "650 (x0.001)"
        item.showGrid(x=True, y=True)
        grid = _mix(self.palette().text().color(), self.palette().base().color(), GRID_SHADE)
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            # Opaque pale grid lines, under the curves, at two tick levels: translucent ones
            # are blended pixel by pixel, which made repaints slow enough to stall the window
            # while training (bench_ui_stall).
            axis.setStyle(tickAlpha=255, maxTickLevel=1)
            axis.setTickPen(pg.mkPen(grid))
            axis.setZValue(-1)
            # Axes and grid are drawn again only when the range changes, not each time the
            # curves grow.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        item.setMenuEnabled(False)
        self.legend = item.addLegend(offset=(-10, 10))
        self.train_curve = item.plot(name="training", pen=pg.mkPen(TRAIN_COLOUR, width=1.5))
        self.val_curve = item.plot(
            name="validation", pen=pg.mkPen(VAL_COLOUR, width=2), symbol="o", symbolSize=6,
            symbolBrush=VAL_COLOUR, symbolPen=None,
        )
        for curve in (self.train_curve, self.val_curve):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        # An invisible two-point item auto-range fits along with the curves: it spans the
        # data in steps, so the range (and the costly axes) change only when it moves.
        self._frame = item.plot([], [], pen=pg.mkPen(0, 0, 0, 0))
        self._frame_y: tuple[float, float] | None = None
        self._frame_x = 0.0
        item.enableAutoRange()

        self.log_box = QCheckBox("log scale")
        self.log_box.setToolTip("Show the loss on a logarithmic axis (late progress is easier "
                                "to see).")
        self.log_box.toggled.connect(self.set_log_scale)
        self.summary = QLabel()
        self.summary.setToolTip("The latest training and validation loss.")

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.log_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.plot_widget, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    # -- data ------------------------------------------------------------------------------
    def add_train(self, step: float, loss: float) -> None:
        """Append one training-loss point (drawn at the next redraw tick)."""
        self.train.append(step, loss)
        self._dirty = True

    def add_val(self, step: float, loss: float) -> None:
        """Append one validation-loss point."""
        self.val.append(step, loss)
        self._dirty = True

    def set_history(self, history: dict[str, Sequence[Sequence[float]]] | None) -> None:
        """Replace the curves with a saved history ``{"train": [[step, loss]...], "val": ...}``.

        Used when a model file is opened or resumed, so its earlier training shows.
        """
        self.train.clear()
        self.val.clear()
        history = history or {}
        self.train.extend(history.get("train", ()))
        self.val.extend(history.get("val", ()))
        self._frame_y = None
        self.redraw(force=True)
        self.plot_widget.getPlotItem().enableAutoRange()

    def clear(self) -> None:
        """Remove every point."""
        self.set_history(None)

    def set_log_scale(self, on: bool) -> None:
        """Switch the loss axis between linear and logarithmic."""
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)  # re-enters through the toggled signal
            return
        self.plot_widget.getPlotItem().setLogMode(y=on)
        self._frame_y = None
        self._update_frame()
        self.plot_widget.getPlotItem().enableAutoRange()

    def redraw(self, force: bool = False) -> None:
        """Push the buffers to the curves if points were added since the last redraw."""
        if not (self._dirty or force):
            return
        self._dirty = False
        # Copies: setData keeps references, and the buffers are overwritten in place.
        self.train_curve.setData(self.train.x.copy(), self.train.y.copy())
        self.val_curve.setData(self.val.x.copy(), self.val.y.copy())
        self._update_frame()
        parts = []
        if len(self.train):
            parts.append(f"training {self.train.y[-1]:.4g}")
        if len(self.val):
            parts.append(f"validation {self.val.y[-1]:.4g}")
        self.summary.setText("Loss: " + ", ".join(parts) if parts else "Loss")

    def _update_frame(self) -> None:
        """Move the invisible frame item when the data have outgrown it (see frame_range)."""
        xs = np.concatenate([self.train.x, self.val.x])
        ys = np.concatenate([self.train.y, self.val.y])
        log = self.log_box.isChecked()
        keep = np.isfinite(ys) & (ys > 0 if log else True)
        if not keep.any():
            self._frame_y = None
            self._frame.setData([], [])
            return
        xs, ys = xs[keep], ys[keep]
        if log:
            ys = np.log10(ys)
        y_range = frame_range(float(ys.min()), float(ys.max()), self._frame_y)
        x_high = float(xs.max())
        x_end = self._frame_x if self._frame_y is not None and x_high <= self._frame_x \
            else nice_ceil(x_high)
        if y_range == self._frame_y and x_end == self._frame_x:
            return
        self._frame_y, self._frame_x = y_range, x_end
        low, high = (10.0 ** y_range[0], 10.0 ** y_range[1]) if log else y_range
        self._frame.setData([float(xs.min()), x_end], [low, high])
