"""Small widgets of the latent explorer: legend, image panes, thumbnails, strip, anomalies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from aestudio.ui.common.image_convert import array_to_qimage, array_to_qpixmap

GREY = "#C8C8C8"
PLAIN = "#4A4A4A"


def swatch(colour: str, size: int = 12) -> QIcon:
    """A small square icon of one colour."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class LegendList(QListWidget):
    """The legend: one checkable row per class; unchecked classes are greyed on the map.

    Signals
    -------
    highlight_changed()
        A row was checked or unchecked.
    """

    highlight_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(12, 12))
        self.setUniformItemSizes(True)
        self._checkable = True
        self.itemChanged.connect(lambda _item: self.highlight_changed.emit())

    def set_rows(self, rows: Sequence[tuple[str, str, str]], checkable: bool) -> None:
        """Rows of (key, colour, text)."""
        self.blockSignals(True)
        self.clear()
        self._checkable = checkable
        for key, colour, text in rows:
            item = QListWidgetItem(swatch(colour), text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            if checkable:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
            else:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            self.addItem(item)
        self.blockSignals(False)

    def checked_keys(self) -> set[str] | None:
        """Keys of the checked rows, or None when every row is checked (nothing greyed)."""
        if not self._checkable:
            return None
        keys = set()
        for row in range(self.count()):
            item = self.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                keys.add(item.data(Qt.ItemDataRole.UserRole))
        return None if len(keys) == self.count() else keys

    def set_checked(self, keys: set[str] | None) -> None:
        """Check exactly ``keys`` (None: all)."""
        self.blockSignals(True)
        for row in range(self.count()):
            item = self.item(row)
            on = keys is None or item.data(Qt.ItemDataRole.UserRole) in keys
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.blockSignals(False)
        self.highlight_changed.emit()


class ImagePane(QLabel):
    """An image shown as large as fits, enlarged with nearest-neighbour (pixels stay sharp)."""

    def __init__(self, minimum: int = 96, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(minimum, minimum)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("ImagePane { background: #202020; border: 1px solid #555; }")
        self._array: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray | None:
        """The image shown, (H, W, C) float in [0, 1], or None."""
        return self._array

    def set_array(self, array: np.ndarray | None) -> None:
        self._array = None if array is None else np.asarray(array)
        self._refresh()

    def resizeEvent(self, event) -> None:  # Qt override
        super().resizeEvent(event)
        self._refresh()

    def hasHeightForWidth(self) -> bool:  # Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # Qt override
        return width

    def _refresh(self) -> None:
        if self._array is None:
            self.clear()
            return
        h, w = self._array.shape[:2]
        side = max(1, min(self.width() - 4, self.height() - 4))
        scale = max(1, side // max(h, w))
        image = array_to_qimage(self._array)
        if scale * max(h, w) < side * 0.75:  # far from filling: scale freely
            image = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.FastTransformation)
        else:
            image = image.scaled(w * scale, h * scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.FastTransformation)
        self.setPixmap(QPixmap.fromImage(image))


class ThumbGrid(QWidget):
    """A grid of small clickable thumbnails (nearest neighbours).

    Signals
    -------
    picked(int)
        The key of the clicked thumbnail.
    """

    picked = Signal(int)

    def __init__(self, columns: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(3)
        self.buttons: list[QToolButton] = []

    def set_images(self, images: np.ndarray, keys: Sequence[int], tips: Sequence[str]) -> None:
        # Buttons are reused: creating widgets on every click costs more than the decode.
        while len(self.buttons) < len(keys):
            n = len(self.buttons)
            button = QToolButton(self)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, b=button: self.picked.emit(b.property("key")))
            self._layout.addWidget(button, n // self.columns, n % self.columns)
            self.buttons.append(button)
        for n, button in enumerate(self.buttons):
            if n >= len(keys):
                button.hide()
                continue
            image = images[n]
            scale = max(1, 56 // max(image.shape[0], 1))
            pixmap = array_to_qpixmap(image, scale)
            button.setIcon(QIcon(pixmap))
            button.setIconSize(pixmap.size().boundedTo(QSize(64, 64)))
            button.setToolTip(tips[n])
            button.setProperty("key", int(keys[n]))
            button.show()

    def shown(self) -> int:
        """How many thumbnails are visible."""
        return sum(1 for b in self.buttons if not b.isHidden())

    def clear(self) -> None:
        for button in self.buttons:
            button.hide()


class StripView(QWidget):
    """Interpolation frames side by side, scaled to the widget's height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frames: np.ndarray | None = None
        self._pixmaps: list[QPixmap] = []
        self.setMinimumHeight(72)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # Qt override
        return QSize(600, 96)

    @property
    def frames(self) -> np.ndarray | None:
        return self._frames

    def set_frames(self, frames: np.ndarray | None) -> None:
        self._frames = frames
        self._pixmaps = [] if frames is None else [array_to_qpixmap(f) for f in frames]
        self.update()

    def paintEvent(self, event) -> None:  # Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202020"))
        n = len(self._pixmaps)
        if n == 0:
            painter.setPen(QColor("#BBBBBB"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Shift+click two points (or two images) to interpolate")
            return
        gap = 3
        side = min(self.height() - 2 * gap, (self.width() - gap * (n + 1)) // n)
        side = max(side, 8)
        x = (self.width() - (n * side + (n - 1) * gap)) // 2
        y = (self.height() - side) // 2
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for pixmap in self._pixmaps:
            painter.drawPixmap(x, y, side, side, pixmap)
            x += side + gap


class AnomalyList(QListWidget):
    """Images ranked by reconstruction error, with thumbnails.

    Signals
    -------
    picked(int)
        The image index of the clicked row.
    """

    picked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(42, 42))
        self.setUniformItemSizes(True)
        self.itemClicked.connect(
            lambda item: self.picked.emit(int(item.data(Qt.ItemDataRole.UserRole))))

    def set_rows(self, indices: np.ndarray, images: np.ndarray, texts: Sequence[str]) -> None:
        self.clear()
        for index, image, text in zip(indices, images, texts, strict=True):
            scale = max(1, 42 // max(image.shape[0], 1))
            item = QListWidgetItem(QIcon(array_to_qpixmap(image, scale)), text)
            item.setData(Qt.ItemDataRole.UserRole, int(index))
            self.addItem(item)


def caption(text: str) -> QLabel:
    """A bold section caption."""
    label = QLabel(text)
    label.setWordWrap(True)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
