"""The decoded grid under the latent map: an n x n mosaic of the visible region.

:class:`GridOverlay` asks for the mosaic when the grid is switched on, and again once a
zoom or pan settles (debounced: the range changes many times a second while it moves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRectF
from superqt.utils import qdebounced

from aestudio.core.latent.decoding import grid_spacing
from aestudio.core.latent.map import LatentMap
from aestudio.ui.latent.controls import MapFooter
from aestudio.ui.latent.decode_requests import DecodeRequests
from aestudio.ui.latent.map_view import MapView

SETTLE_MS = 150


class GridOverlay(QObject):
    """Keeps the decoded grid in step with the view, the grid controls and the map.

    Parameters
    ----------
    view : MapView
        Gives the visible region and shows the mosaic.
    footer : MapFooter
        The grid's switch and size.
    decodes : DecodeRequests
        Decodes the mosaic.
    shown : callable
        Returns the (model, LatentMap) shown, either None.
    parent : QObject, optional
    """

    def __init__(self, view: MapView, footer: MapFooter, decodes: DecodeRequests,
                 shown: Callable[[], tuple[Any, LatentMap | None]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view, self.footer, self.decodes, self._shown = view, footer, decodes, shown
        self._request_soon = qdebounced(self.request, timeout=SETTLE_MS, leading=False,
                                        parent=self)
        footer.grid_changed.connect(self._on_grid_changed)
        view.range_changed.connect(self._on_range_changed)
        decodes.grid_decoded.connect(self._on_decoded)

    def visible(self) -> bool:
        return self.footer.grid_box.isChecked()

    def spacing(self) -> str:
        """"prior" for a VAE shown by its raw codes (cells of equal prior mass), else
        "uniform"."""
        return grid_spacing(*self._shown())

    def request(self) -> None:
        """Decode the grid over the visible region now (when it is on)."""
        model, lm = self._shown()
        if lm is None or model is None or not self.visible():
            return
        xr, yr = self.view.visible_range()
        self.decodes.grid(model, lm, xr, yr, self.footer.grid_size.value(), self.spacing())

    def cancel(self) -> None:
        self._request_soon.cancel()
        self.decodes.cancel_grid()

    def _on_grid_changed(self) -> None:
        if self.visible():
            self.request()
        else:
            self.cancel()
            self.view.set_grid_image(None)

    def _on_range_changed(self) -> None:
        if self.visible():
            self._request_soon()

    def _on_decoded(self, mosaic: np.ndarray, rect: QRectF) -> None:
        if self.visible():
            self.view.set_grid_image(mosaic, rect)
