"""The probed point of the latent map: a click, a drag, a selected image, a hover.

:class:`PointProbe` marks the point, asks for its decode (in the background, newest first:
a fast drag never queues stale decodes) and fills the point panel with the nearest image,
its reconstruction and its neighbours. After a live refresh moves the points it follows:
a selected image keeps its rings, and the point decodes again with the new model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPointF

from aestudio.core.latent.codes import FolderCodes
from aestudio.core.latent.map import LatentMap
from aestudio.ui.latent.decode_requests import DecodeRequests
from aestudio.ui.latent.map_view import MapView
from aestudio.ui.latent.side_panels import NEIGHBOURS, PointPanel

HOVER_PIXELS = 8

Shown = tuple[Any, FolderCodes | None, LatentMap | None]  # model, codes, map


class PointProbe(QObject):
    """Probes the map and shows what lies at the probed point.

    Parameters
    ----------
    view : MapView
        Draws the marker, the neighbour rings and the hover card.
    panel : PointPanel
        Shows the decoded image, the nearest image and the neighbours.
    decodes : DecodeRequests
        Decodes the point and reconstructions.
    shown : callable
        Returns the (model, FolderCodes, LatentMap) shown; either of the last two None.
    parent : QObject, optional
    """

    def __init__(self, view: MapView, panel: PointPanel, decodes: DecodeRequests,
                 shown: Callable[[], Shown], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view, self.panel, self.decodes, self._shown = view, panel, decodes, shown
        self.code: np.ndarray | None = None  # the code decoded at the probed point
        self.selected: int | None = None  # the image nearest to the probed point
        self.reset()
        decodes.probe_decoded.connect(self._on_decoded)
        decodes.reconstruction_decoded.connect(self._on_reconstruction)
        view.hovered.connect(self._on_hovered)
        view.left.connect(self._on_left)

    def reset(self) -> None:
        """Forget the probed point (new codes)."""
        self.xy: tuple[float, float] | None = None
        self.snap: int | None = None
        self.code = None
        self.selected = None
        self._neighbours: np.ndarray | None = None

    def forget_point(self) -> None:
        """Forget where the point was (a new layout); the panel keeps its images."""
        self.xy = self.snap = self._neighbours = None
        self.view.set_marker(None)
        self.view.set_neighbours(None)

    def near_point(self, x: float, y: float) -> int | None:
        """The image under the pointer (within a few pixels), if any."""
        lm = self._shown()[2]
        if lm is None:
            return None
        idx, _ = lm.nearest(np.array([x, y]), 1)
        px, py = self.view.pixel_size()
        dx, dy = (lm.positions[idx[0]] - (x, y)) / (max(px, 1e-12), max(py, 1e-12))
        return int(idx[0]) if dx * dx + dy * dy <= HOVER_PIXELS**2 else None

    def probe(self, x: float, y: float, snap: int | None = None) -> None:
        """Decode at map point (x, y), or image ``snap``'s own code at its position."""
        model, data, lm = self._shown()
        if model is None or data is None or lm is None:
            return
        self.xy, self.snap = (x, y), snap
        self.view.set_marker((x, y))
        self.code = lm.codes[snap].astype(np.float32) if snap is not None else lm.to_code((x, y))
        idx, dist = lm.nearest(np.array([x, y]), NEIGHBOURS)
        self._show_neighbours(idx, dist)
        self.decodes.probe(model, (x, y), self.code)

    def follow(self) -> None:
        """After the points moved: decode again where the point is now."""
        lm = self._shown()[2]
        if self.xy is None or lm is None:
            return
        snap = self.snap
        xy = (tuple(float(v) for v in lm.positions[snap]) if snap is not None else self.xy)
        self.xy = xy
        self.view.set_marker(xy)
        if self._neighbours is not None:
            idx = self._neighbours
            self._show_neighbours(idx, np.hypot(*(lm.positions[idx] - xy).T))
        model = self._shown()[0]
        self.code = lm.codes[snap].astype(np.float32) if snap is not None else lm.to_code(xy)
        self.decodes.probe(model, xy, self.code)

    def _show_neighbours(self, idx: np.ndarray, dist: np.ndarray) -> None:
        """The nearest image (original), its neighbours' thumbnails and their rings."""
        model, data, lm = self._shown()
        if data is None or lm is None:
            return
        self.view.set_neighbours(lm.positions[idx])
        self._neighbours = np.asarray(idx)
        self.selected = first = int(idx[0])
        self.panel.show_nearest(data, idx, dist)
        kept = data.reconstruction(first)  # computed while encoding, when it fitted
        self.panel.recon_pane.set_array(kept)
        if kept is None:
            self.decodes.reconstruction(model, data.codes[first], first)

    def _on_decoded(self, xy: tuple[float, float], code: np.ndarray, image: np.ndarray) -> None:
        lm = self._shown()[2]
        self.panel.show_decoded(xy, code, image, lm is not None and lm.exact)

    def _on_reconstruction(self, index: int, image: np.ndarray) -> None:
        if index == self.selected:
            self.panel.recon_pane.set_array(image)

    def _on_hovered(self, x: float, y: float, wx: float, wy: float) -> None:
        _, data, lm = self._shown()
        i = self.near_point(x, y)
        if i is None or data is None or lm is None:
            self._on_left()
            return
        self.view.set_hover(tuple(lm.positions[i]))
        self.view.card.show_at(QPointF(wx, wy), data.image(i),
                               f"{data.labels[i] or '-'} · {Path(data.paths[i]).name}")

    def _on_left(self) -> None:
        self.view.set_hover(None)
        self.view.card.hide()
