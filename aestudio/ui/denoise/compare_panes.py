"""The split pane (two canvases with a draggable vertical divider) and the link that keeps
several panes on one region with the same zoom."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen, QResizeEvent
from PySide6.QtWidgets import QWidget

from aestudio.ui.denoise.compare_canvas import ImageCanvas, ImagePane

DIVIDER_GRAB_PX = 8  # how close to the split divider a press grabs it


class SplitPane(ImagePane):
    """One pane showing ``left`` left of a draggable vertical divider and ``right`` beyond it."""

    divider_moved = Signal(float)

    def __init__(self, left: ImageCanvas, right: ImageCanvas,
                 labels: tuple[str, str] = ("", ""), parent: QWidget | None = None) -> None:
        super().__init__((right, left), parent)
        self._right_item, self._left_item = self.items_
        self.labels = labels
        self._fraction = 0.5  # divider position across the viewport
        self._dragging = False
        self.setMouseTracking(True)
        self.view_changed.connect(self._update_clip)

    def divider_fraction(self) -> float:
        return self._fraction

    def set_divider_fraction(self, fraction: float) -> None:
        """Put the divider at ``fraction`` (0..1) of the viewport's width."""
        self._fraction = min(max(float(fraction), 0.0), 1.0)
        self._update_clip()
        self.viewport().update()
        self.divider_moved.emit(self._fraction)

    def divider_x(self) -> int:
        """The divider's viewport x coordinate."""
        return round(self._fraction * self.viewport().width())

    def _update_clip(self) -> None:
        x = self.mapToScene(QPoint(self.divider_x(), 0)).x()
        self._left_item.clip_right = x
        self._right_item.clip_left = x
        self._left_item.update()
        self._right_item.update()

    def _near_divider(self, pos: QPointF) -> bool:
        return abs(pos.x() - self.divider_x()) <= DIVIDER_GRAB_PX

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event.position()):
            self._dragging = True
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._dragging:
            self.set_divider_fraction(event.position().x() / max(self.viewport().width(), 1))
            event.accept()
            return
        near = self._near_divider(event.position())
        self.viewport().setCursor(Qt.CursorShape.SplitHCursor if near
                                  else Qt.CursorShape.OpenHandCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._dragging:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._update_clip()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 (Qt API)
        super().drawForeground(painter, rect)
        if self.items_[0].canvas.is_empty():
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        x = self.divider_x()
        height = self.viewport().height()
        painter.setPen(QPen(QColor(0, 0, 0, 140), 3))
        painter.drawLine(x, 0, x, height)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawLine(x, 0, x, height)
        # A round handle with two arrows says "drag me".
        centre = QPointF(x, height / 2)
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.setPen(QPen(QColor(0, 0, 0, 120), 1))
        painter.drawEllipse(centre, 11, 11)
        arrows = QPainterPath()
        for sign in (-1, 1):
            tip = centre + QPointF(sign * 7, 0)
            arrows.moveTo(tip)
            arrows.lineTo(tip + QPointF(-sign * 4, -4))
            arrows.lineTo(tip + QPointF(-sign * 4, 4))
            arrows.closeSubpath()
        painter.setBrush(QColor(40, 40, 40))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPath(arrows)
        self._draw_labels(painter, x)
        painter.restore()

    def _draw_labels(self, painter: QPainter, x: int) -> None:
        metrics = painter.fontMetrics()
        for text, right_side in ((self.labels[0], False), (self.labels[1], True)):
            if not text:
                continue
            width = metrics.horizontalAdvance(text) + 12
            left = x + 8 if right_side else x - 8 - width
            box = QRectF(left, 8, width, metrics.height() + 6)
            painter.setBrush(QColor(0, 0, 0, 150))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class ViewLink(QObject):
    """Keeps panes on the same image region: same centre and same zoom.

    The pane the user last moved leads; the others follow it.
    """

    changed = Signal()  # after the panes were brought in line

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panes: list[ImagePane] = []
        self.leader: ImagePane | None = None
        self._syncing = False

    def add(self, pane: ImagePane) -> None:
        self.panes.append(pane)
        pane.view_changed.connect(lambda p=pane: self._follow(p))
        pane.resized.connect(lambda p=pane: self._resized(p))
        if self.leader is None:
            self.leader = pane

    def _follow(self, source: ImagePane) -> None:
        if self._syncing:
            return
        self.leader = source
        self.sync_from(source)

    def _resized(self, pane: ImagePane) -> None:
        # A pane that appears or grows keeps its centre; bring it to the leader's region.
        if self._syncing or self.leader is None:
            return
        if pane is self.leader:
            self.sync_from(pane)
            return
        self._syncing = True
        try:
            pane.set_view(self.leader.center(), self.leader.zoom())
        finally:
            self._syncing = False
        self.changed.emit()

    def sync_from(self, source: ImagePane | None = None) -> None:
        """Bring every pane to ``source``'s (default: the leader's) centre and zoom."""
        source = source or self.leader
        if source is None:
            return
        centre, zoom = source.center(), source.zoom()
        self._syncing = True
        try:
            for pane in self.panes:
                if pane is not source:
                    pane.set_view(centre, zoom)
        finally:
            self._syncing = False
        self.changed.emit()
