"""Interpolation in the latent explorer: the strip under the map and the two end points.

:class:`InterpolationStrip` shows the decoded frames with their controls (frames, lerp or
slerp, Save, Clear). :class:`Endpoints` keeps the two Shift+clicked ends: a map point and
its code, and the image it snapped to, if any, so the ends can follow a live map.
:class:`Interpolator` ties them to the map and the background decodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aestudio.core.latent.map import LatentMap
from aestudio.ui.latent.decode_requests import DecodeRequests
from aestudio.ui.latent.map_view import MapView
from aestudio.ui.latent.panels import StripView, caption

SLERP_TIP = ("Spherical interpolation: only sensible for VAEs with more than about 8 latent "
             "dimensions, where codes lie near a shell; use lerp otherwise.")


class InterpolationStrip(QWidget):
    """The frames of an interpolation and its controls.

    Signals
    -------
    settings_changed()
        The number of frames or the mode changed.
    save_requested(str)
        "png" (a strip), "gif" or "frames" (one PNG each).
    clear_clicked()
    """

    settings_changed = Signal()
    save_requested = Signal(str)
    clear_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = StripView()
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(2, 64)
        self.steps_spin.setValue(10)
        self.steps_spin.setToolTip("Frames, both ends included")
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("lerp", "lerp")
        self.mode_combo.addItem("slerp", "slerp")
        self.mode_combo.setItemData(1, SLERP_TIP, Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.setToolTip("lerp: straight line (the default). " + SLERP_TIP)
        self.steps_spin.valueChanged.connect(lambda _v: self.settings_changed.emit())
        self.mode_combo.currentIndexChanged.connect(lambda _i: self.settings_changed.emit())
        save = QToolButton()
        save.setText("Save")
        save.setToolTip("Save the frames as a PNG strip, an animated GIF or PNGs")
        save.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(save)
        for text, kind in (("PNG strip…", "png"), ("Animated GIF…", "gif"),
                           ("Frames as PNGs…", "frames")):
            menu.addAction(text, lambda k=kind: self.save_requested.emit(k))
        save.setMenu(menu)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear_clicked)
        self.buttons = [save, clear]

        bar = QHBoxLayout()
        title = caption("Interpolation")
        title.setWordWrap(False)
        bar.addWidget(title)
        bar.addWidget(QLabel("frames"))
        bar.addWidget(self.steps_spin)
        bar.addWidget(self.mode_combo)
        bar.addStretch(1)
        for button in self.buttons:
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.strip)

    def steps(self) -> int:
        return self.steps_spin.value()

    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_controls_enabled(self, on: bool) -> None:
        for widget in (self.steps_spin, self.mode_combo, *self.buttons):
            widget.setEnabled(on)


@dataclass(frozen=True)
class End:
    """One end of an interpolation: a map point, its code, and the image it snapped to."""

    xy: tuple[float, float]
    code: np.ndarray
    snap: int | None


def end_at(latent_map: LatentMap, xy: tuple[float, float], snap: int | None) -> End:
    """The end at ``xy``, or at image ``snap``'s position with that image's own code."""
    if snap is not None:
        x, y = (float(v) for v in latent_map.positions[snap])
        return End((x, y), latent_map.codes[snap].astype(np.float32), snap)
    return End((float(xy[0]), float(xy[1])), latent_map.to_code(xy), None)


class Endpoints:
    """The ends of the current interpolation (at most two) and its decoded frames."""

    def __init__(self) -> None:
        self.ends: list[End] = []
        self.frames: np.ndarray | None = None

    def add(self, end: End) -> bool:
        """Add an end (a third one starts again); True when both ends are set."""
        if len(self.ends) >= 2:
            self.ends = []
        self.ends.append(end)
        return len(self.ends) == 2

    def complete(self) -> bool:
        return len(self.ends) == 2

    def points(self) -> list[tuple[float, float]]:
        return [end.xy for end in self.ends]

    def follow(self, latent_map: LatentMap) -> None:
        """After the points moved: snapped ends move with their images, others keep their
        place and take the code now found there."""
        self.ends = [end_at(latent_map, end.xy, end.snap) for end in self.ends]

    def clear(self) -> None:
        self.ends = []
        self.frames = None


class Interpolator(QObject):
    """Shift+clicked ends, their decoded frames in the strip, the path on the map.

    Parameters
    ----------
    strip : InterpolationStrip
    view : MapView
        Draws the ends and the path.
    decodes : DecodeRequests
        Interpolates and decodes the frames in one batch.
    shown : callable
        Returns the (model, LatentMap) shown, either None.
    parent : QObject, optional

    Signals
    -------
    status(str)
    """

    status = Signal(str)

    def __init__(self, strip: InterpolationStrip, view: MapView, decodes: DecodeRequests,
                 shown: Callable[[], tuple[Any, LatentMap | None]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.strip, self.view, self.decodes, self._shown = strip, view, decodes, shown
        self.endpoints = Endpoints()
        strip.settings_changed.connect(self.run)
        strip.clear_clicked.connect(self.clear)
        decodes.path_decoded.connect(self._on_decoded)

    def add_end(self, xy: tuple[float, float], snap: int | None) -> None:
        """Add an end at ``xy`` (image ``snap``'s own code when on one)."""
        lm = self._shown()[1]
        if lm is None:
            return
        both = self.endpoints.add(end_at(lm, xy, snap))
        self.view.set_endpoints(self.endpoints.points())
        if both:
            self.run()
        else:
            self.status.emit("Shift+click a second point to interpolate")

    def run(self) -> None:
        """Decode the frames between the two ends (when both are set)."""
        model, lm = self._shown()
        if not self.endpoints.complete() or model is None or lm is None:
            return
        a, b = self.endpoints.ends
        self.decodes.path(model, lm, a.code, b.code, a.xy, b.xy, self.strip.steps(),
                          self.strip.mode())

    def follow(self) -> None:
        """After the points moved: move the ends and decode again."""
        lm = self._shown()[1]
        if self.endpoints.ends and lm is not None:
            self.endpoints.follow(lm)
            self.view.set_endpoints(self.endpoints.points())
            self.run()

    def frames(self) -> np.ndarray | None:
        return self.endpoints.frames

    def clear(self) -> None:
        self.endpoints.clear()
        self.strip.strip.set_frames(None)
        self.view.set_path(None)
        self.view.set_endpoints([])

    def _on_decoded(self, frames: np.ndarray, codes: np.ndarray, path: np.ndarray) -> None:
        if not self.endpoints.complete():
            return
        self.endpoints.frames = frames
        self.strip.strip.set_frames(frames)
        self.view.set_path(path)
        self.status.emit(f"interpolated {len(frames)} frames ({self.strip.mode()})")
