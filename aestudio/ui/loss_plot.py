"""Training and validation loss curves, drawn from growing numpy buffers.

Points are appended to preallocated arrays and the two curves are redrawn with ``setData``
at most a few times per second, so a long run costs one plot item per curve, never one item
per point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
TRAIN_COLOUR = "#0072B2"  # blue
VAL_COLOUR = "#D55E00"  # vermillion
REDRAW_MS = 200
MAX_POINTS = 20_000


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
        item.showGrid(x=True, y=True, alpha=0.25)
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
        self.plot_widget.getPlotItem().enableAutoRange()

    def redraw(self, force: bool = False) -> None:
        """Push the buffers to the curves if points were added since the last redraw."""
        if not (self._dirty or force):
            return
        self._dirty = False
        # Copies: setData keeps references, and the buffers are overwritten in place.
        self.train_curve.setData(self.train.x.copy(), self.train.y.copy())
        self.val_curve.setData(self.val.x.copy(), self.val.y.copy())
        parts = []
        if len(self.train):
            parts.append(f"training {self.train.y[-1]:.4g}")
        if len(self.val):
            parts.append(f"validation {self.val.y[-1]:.4g}")
        self.summary.setText("Loss: " + ", ".join(parts) if parts else "Loss")
