"""Point colours of the latent map: a few shared brushes, a drawing order, legend rows.

Every point gets one of a handful of brush objects (one per label or error bin), so the
scatter stays a single item that pyqtgraph draws from a small cache. Highlighting greys the
other labels rather than hiding them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject

from aestudio.core.latent.codes import FolderCodes
from aestudio.core.latent.map import LatentMap
from aestudio.core.latent.map_render import ERROR_COLOURS, LABEL_COLOURS
from aestudio.ui.latent.controls import MapBar
from aestudio.ui.latent.map_view import MapView, make_brush
from aestudio.ui.latent.panels import GREY, PLAIN, LegendList


def error_bins(errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges of equal-count bins of the reconstruction errors and each image's bin.

    Returns
    -------
    tuple of numpy.ndarray
        ``len(ERROR_COLOURS) + 1`` edges and the (N,) bin of each error.
    """
    edges = np.quantile(errors, np.linspace(0, 1, len(ERROR_COLOURS) + 1))
    bins = np.clip(np.searchsorted(edges[1:-1], errors, side="right"), 0,
                   len(ERROR_COLOURS) - 1)
    return edges, bins


def legend_rows(data: FolderCodes, mode: str) -> tuple[list[tuple[str, str, str]], bool]:
    """Legend rows (key, colour, text) for a colouring, and whether they are checkable."""
    if mode == "label":
        return [(name, LABEL_COLOURS[i % len(LABEL_COLOURS)],
                 f"{name or '(no label)'}  ({int((data.label_index == i).sum()):,})")
                for i, name in enumerate(data.label_names)], True
    if mode == "error":
        edges, _ = error_bins(data.errors)
        return [(str(i), c, f"MSE {edges[i]:.4f}–{edges[i + 1]:.4f}")
                for i, c in enumerate(ERROR_COLOURS)], False
    return [], False


def point_brushes(data: FolderCodes, mode: str,
                  highlighted: set[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-point brushes (a few shared objects) and the order to draw the points in.

    Parameters
    ----------
    data : FolderCodes
    mode : str
        "label", "error" or "none".
    highlighted : set of str, optional
        Labels to highlight (label mode); the others are greyed and drawn underneath.

    Returns
    -------
    tuple of numpy.ndarray
        (N,) object array of QBrush and the (N,) drawing order (last on top).
    """
    if mode == "error":
        _, bins = error_bins(data.errors)
        palette = np.array([make_brush(c, 220) for c in ERROR_COLOURS], dtype=object)
        # Large errors on top: they are what this colouring is for.
        return palette[bins], np.argsort(bins, kind="stable")
    if mode == "label":
        palette = np.array([make_brush(LABEL_COLOURS[i % len(LABEL_COLOURS)], 210)
                            for i in range(len(data.label_names))], dtype=object)
        brushes = palette[data.label_index]
    else:
        brushes = np.empty(len(data), dtype=object)
        brushes[:] = make_brush(PLAIN, 160)
    # A fixed shuffled order: drawn in folder order, the last label would cover the rest.
    shuffled = np.random.default_rng(0).permutation(len(data))
    if mode != "label" or highlighted is None:
        return brushes, shuffled
    chosen = np.isin(np.asarray(data.labels, dtype=str), list(highlighted))
    grey = np.empty(len(data), dtype=object)
    grey[:] = make_brush(GREY, 140)
    # Greyed points first (underneath), highlighted ones on top.
    return np.where(chosen, brushes, grey), shuffled[np.argsort(chosen[shuffled], kind="stable")]


class PointColours(QObject):
    """Keeps the scatter's colours and the legend in step with the colour choice.

    Parameters
    ----------
    bar : MapBar
        Gives the colour mode.
    legend : LegendList
        Shows the rows and the highlighted labels.
    view : MapView
        Draws the points.
    shown : callable
        Returns the (FolderCodes, LatentMap) shown, either None.
    parent : QObject, optional
    """

    def __init__(self, bar: MapBar, legend: LegendList, view: MapView,
                 shown: Callable[[], tuple[FolderCodes | None, LatentMap | None]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bar, self.legend, self.view, self._shown = bar, legend, view, shown
        bar.colour_changed.connect(self._on_mode)
        legend.highlight_changed.connect(self.draw)

    def rebuild_legend(self) -> None:
        """Legend rows for the colouring chosen (all labels highlighted)."""
        data = self._shown()[0]
        if data is not None:
            self.legend.set_rows(*legend_rows(data, self.bar.colour_mode()))

    def draw(self) -> None:
        """Draw the points shown in the colours chosen."""
        data, lm = self._shown()
        if data is None or lm is None:
            return
        mode = self.bar.colour_mode()
        keys = self.legend.checked_keys() if mode == "label" else None
        brushes, order = point_brushes(data, mode, keys)
        self.view.set_points(lm.positions, brushes, order)

    def _on_mode(self) -> None:
        self.rebuild_legend()
        self.draw()
