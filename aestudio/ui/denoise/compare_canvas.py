"""Zoomable image panes with linked zoom and pan, for comparing an image with its denoised twin.

The pixels live in an :class:`ImageCanvas` (one 8-bit QImage updated patch by patch as tiles
arrive); a :class:`CanvasItem` draws a canvas in a pane's scene, so one canvas can appear in
several panes without a copy. :class:`ImagePane` is a QGraphicsView whose scene coordinates
are image pixels: the wheel zooms at the cursor, a drag pans. The split pane and the link
that keeps panes on one region are in :mod:`aestudio.ui.denoise.compare_panes`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from aestudio.ui.common.image_convert import to_uint8

MIN_ZOOM = 1 / 64
MAX_ZOOM = 64.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch

_PENDING_FILL = QColor(24, 26, 32, 120)
_PENDING_HATCH = QColor(255, 255, 255, 46)


def rgb_pixels(array: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 array for any (H, W), (H, W, 1) or (H, W, 3) float/uint image."""
    pixels = to_uint8(np.asarray(array))
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[..., :3])


def _qimage_from_rgb(pixels: np.ndarray) -> QImage:
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB888)
    return image.copy()  # QImage only borrows the numpy buffer


def qimage_to_array(image: QImage) -> np.ndarray:
    """The pixels of an RGB888 QImage as an (H, W, 3) uint8 array (a copy)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


class ImageCanvas(QObject):
    """An 8-bit RGB picture that panes draw; patches can be replaced as results arrive.

    ``pending`` holds image rectangles still being computed; panes hatch them over.
    """

    changed = Signal(QRectF)  # the image rectangle that needs repainting
    resized = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.pending: set[tuple[int, int, int, int]] = set()  # (x, y, w, h)
        self.placeholder = ""  # text drawn when the canvas is empty

    def width(self) -> int:
        return self.image.width()

    def height(self) -> int:
        return self.image.height()

    def is_empty(self) -> bool:
        return self.image.isNull()

    def clear(self, placeholder: str = "") -> None:
        """Drop the picture; panes then show ``placeholder`` centred."""
        self.image = QImage()
        self.pending.clear()
        self.placeholder = placeholder
        self.resized.emit()

    def set_array(self, array: np.ndarray) -> None:
        """Show a whole image (float in [0, 1] or uint8/uint16; gray or RGB)."""
        old = self.image.size()
        self.image = _qimage_from_rgb(rgb_pixels(array))
        self.pending.clear()
        if self.image.size() != old:
            self.resized.emit()
        self.changed.emit(QRectF(0, 0, self.image.width(), self.image.height()))

    def set_patch(self, x: int, y: int, array: np.ndarray) -> None:
        """Replace the pixels at column ``x``, row ``y`` with ``array`` (any image dtype)."""
        if self.image.isNull():
            return
        patch = _qimage_from_rgb(rgb_pixels(array))
        painter = QPainter(self.image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(QPoint(x, y), patch)
        painter.end()
        self.changed.emit(QRectF(x, y, patch.width(), patch.height()))

    def set_pending(self, rects: Iterable[tuple[int, int, int, int]]) -> None:
        """Mark image rectangles (x, y, w, h) as still being computed."""
        self.pending = set(rects)
        self.changed.emit(QRectF(0, 0, self.image.width(), self.image.height()))

    def mark_done(self, rect: tuple[int, int, int, int]) -> None:
        """Remove one rectangle from the pending set."""
        if rect in self.pending:
            self.pending.discard(rect)
            self.changed.emit(QRectF(*rect))

    def array(self) -> np.ndarray:
        """The shown pixels as an (H, W, 3) uint8 array."""
        return qimage_to_array(self.image)


class CanvasItem(QGraphicsItem):
    """Draws an :class:`ImageCanvas` at one scene unit per image pixel.

    ``clip_right`` / ``clip_left`` (scene x) limit the drawn part, for the split view.
    """

    def __init__(self, canvas: ImageCanvas) -> None:
        super().__init__()
        self.canvas = canvas
        self.clip_left: float | None = None
        self.clip_right: float | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        canvas.changed.connect(self._on_changed)
        canvas.resized.connect(self._on_resized)

    def _on_changed(self, rect: QRectF) -> None:
        self.update(rect)

    def _on_resized(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return QRectF(0, 0, self.canvas.width(), self.canvas.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self.canvas.is_empty():
            return
        rect = option.exposedRect.intersected(self.boundingRect())
        if self.clip_left is not None:
            rect.setLeft(max(rect.left(), self.clip_left))
        if self.clip_right is not None:
            rect.setRight(min(rect.right(), self.clip_right))
        if rect.width() <= 0 or rect.height() <= 0:
            return
        painter.save()
        painter.setClipRect(rect)
        # Sharp pixels when magnified (to judge grain), smooth when shrunk.
        scale = painter.worldTransform().m11()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.0)
        source = rect.toAlignedRect().intersected(QRect(0, 0, self.canvas.width(),
                                                        self.canvas.height()))
        painter.drawImage(QRectF(source), self.canvas.image, QRectF(source))
        for x, y, w, h in self.canvas.pending:
            box = QRectF(x, y, w, h).intersected(rect)
            if box.isEmpty():
                continue
            painter.fillRect(box, _PENDING_FILL)
            painter.fillRect(box, QBrush(_PENDING_HATCH, Qt.BrushStyle.BDiagPattern))
        painter.restore()


class ImagePane(QGraphicsView):
    """A view of image canvases where the wheel zooms at the cursor and a drag pans.

    Scene coordinates are image pixels. ``view_changed`` fires after any zoom or pan made
    here (by the user or by :meth:`set_view`), so a :class:`ViewLink` can follow it.
    """

    view_changed = Signal()
    resized = Signal()

    def __init__(self, canvases: Iterable[ImageCanvas] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.items_: list[CanvasItem] = []
        for canvas in canvases:
            self.add_canvas(canvas)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(38, 40, 44))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(False)  # files dropped here go to the compare view
        self.viewport().setAcceptDrops(False)
        self.setMinimumSize(120, 120)
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._quiet = 0

    def add_canvas(self, canvas: ImageCanvas) -> CanvasItem:
        item = CanvasItem(canvas)
        item.setZValue(len(self.items_))
        self._scene.addItem(item)
        self.items_.append(item)
        canvas.resized.connect(self.update_scene_rect)
        canvas.changed.connect(lambda _rect: self.viewport().update()
                               if self.items_[0].canvas.is_empty() else None)
        self.update_scene_rect()
        return item

    # ------------------------------------------------------------------ geometry

    def image_rect(self) -> QRectF:
        """The union of the canvases' rectangles, in image pixels."""
        rect = QRectF()
        for item in self.items_:
            rect = rect.united(item.boundingRect())
        return rect

    def update_scene_rect(self) -> None:
        rect = self.image_rect()
        self._scene.setSceneRect(rect if not rect.isEmpty() else QRectF(0, 0, 1, 1))
        self.viewport().update()

    def zoom(self) -> float:
        """Screen pixels per image pixel (logical pixels; see :meth:`one_to_one_zoom`)."""
        return self.transform().m11()

    def center(self) -> QPointF:
        """The image point at the middle of the viewport."""
        return self.mapToScene(self.viewport().rect().center())

    def visible_rect(self) -> QRectF:
        """The image region the viewport shows (may extend beyond the image)."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def one_to_one_zoom(self) -> float:
        """The zoom at which one image pixel is one physical screen pixel."""
        return 1.0 / max(self.devicePixelRatioF(), 1e-6)

    def set_view(self, center: QPointF, zoom: float) -> None:
        """Show ``center`` in the middle at ``zoom``; emits ``view_changed``."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._quiet += 1
        try:
            self.setTransform(self.transform().fromScale(zoom, zoom))
            self.centerOn(center)
        finally:
            self._quiet -= 1
        self.view_changed.emit()

    def zoom_at(self, factor: float, view_pos: QPointF | None = None) -> None:
        """Multiply the zoom by ``factor`` keeping the image point under ``view_pos`` fixed."""
        if view_pos is None:
            view_pos = QPointF(self.viewport().rect().center())
        old = self.zoom()
        new = min(max(old * factor, MIN_ZOOM), MAX_ZOOM)
        if new == old:
            return
        anchor = self.mapToScene(view_pos.toPoint())
        centre = self.center()
        # Keep `anchor` under the cursor: the centre moves towards it by 1 - old/new.
        shift = (anchor - centre) * (1.0 - old / new)
        self.set_view(centre + shift, new)

    def fit(self) -> None:
        """Zoom so the whole image fits the viewport, centred."""
        rect = self.image_rect()
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        zoom = min((view.width() - 4) / rect.width(), (view.height() - 4) / rect.height())
        self.set_view(rect.center(), max(zoom, MIN_ZOOM))

    # ------------------------------------------------------------------ events

    def _on_scrolled(self, _value: int) -> None:
        if not self._quiet:
            self.view_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_at(WHEEL_STEP ** steps, event.position())
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.resized.emit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt API)
        if not self.items_ or not self.items_[0].canvas.is_empty():
            return
        text = self.items_[0].canvas.placeholder
        if not text:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(200, 204, 210))
        painter.drawText(self.viewport().rect().adjusted(16, 16, -16, -16),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
        painter.restore()
