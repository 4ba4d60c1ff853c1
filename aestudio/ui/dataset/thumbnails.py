"""Thumbnails for large image folders: decoded off the UI thread, cached, asked for lazily.

:class:`ThumbnailModel` is the list model of a folder's images: the view asks it for
decorations of the rows it paints only, so with 50,000 images only the visible few are
decoded (by :class:`~aestudio.ui.dataset.thumbnail_loader.ThumbnailLoader`, off the UI
thread). Until a thumbnail is ready the model shows a placeholder.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Slot,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from aestudio.ui.dataset.thumbnail_loader import THUMBNAIL_PIXELS, ThumbnailLoader, decode_thumbnail

# Kept importable from here, where the panel and the tests look for them.
__all__ = ["THUMBNAIL_PIXELS", "RecordRole", "ThumbnailGrid", "ThumbnailLoader",
           "ThumbnailModel", "decode_thumbnail"]

if TYPE_CHECKING:
    from aestudio.core.data.records import ImageRecord

CACHE_SIZE = 1000  # thumbnails kept (at most 64 KiB each: about 64 MiB in all)

RecordRole = Qt.ItemDataRole.UserRole + 1
LabelRole = Qt.ItemDataRole.UserRole + 2


def _tile(size: int, fill: str, border: str, cross: bool = False) -> QPixmap:
    """A rounded square used while a thumbnail loads (or when it cannot)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    rect = QRectF(2.5, 2.5, size - 5, size - 5)
    path.addRoundedRect(rect, size / 10, size / 10)
    painter.fillPath(path, QColor(fill))
    painter.setPen(QPen(QColor(border), 1.5))
    painter.drawPath(path)
    if cross:
        pen = QPen(QColor("#e03131"), size / 16)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        m = size * 0.36
        painter.drawLine(int(m), int(m), int(size - m), int(size - m))
        painter.drawLine(int(size - m), int(m), int(m), int(size - m))
    painter.end()
    return pixmap


class ThumbnailModel(QAbstractListModel):
    """The images of a scanned folder as a flat list, optionally filtered by label.

    Decorations are thumbnails from an LRU cache; a missing one is requested from the
    loader (only the view's visible rows ever ask) and a placeholder is shown meanwhile.
    """

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self._records: tuple[ImageRecord, ...] = ()
        self._rows: list[int] = []  # indices into _records shown (after the label filter)
        self._row_of: dict[str, int] = {}
        self._label: str | None = None
        self._generation = 0
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._requested: set[str] = set()
        self._placeholder = _tile(THUMBNAIL_PIXELS, "#dee2e6", "#ced4da")
        self._broken = _tile(THUMBNAIL_PIXELS, "#fff5f5", "#ffc9c9", cross=True)
        loader.ready.connect(self._on_ready)

    # -- contents --------------------------------------------------------------------------
    def set_records(self, records: Sequence[ImageRecord]) -> None:
        """Show ``records`` (a new folder): the cache and queued requests are dropped."""
        self.beginResetModel()
        self._generation += 1
        self.loader.clear()
        self._cache.clear()
        self._requested.clear()
        self._records = tuple(records)
        self._label = None
        self._rebuild_rows()
        self.endResetModel()

    def set_label_filter(self, label: str | None) -> None:
        """Show only the images of ``label`` (None: all)."""
        if label == self._label:
            return
        self.beginResetModel()
        self._label = label
        self._rebuild_rows()
        self.endResetModel()

    def label_filter(self) -> str | None:
        return self._label

    def _rebuild_rows(self) -> None:
        label = self._label
        self._rows = [i for i, r in enumerate(self._records) if label is None or r.label == label]
        self._row_of = {str(self._records[i].path): row for row, i in enumerate(self._rows)}

    def record(self, row: int) -> ImageRecord:
        """The record shown at ``row``."""
        return self._records[self._rows[row]]

    def records(self) -> tuple[ImageRecord, ...]:
        """Every record of the folder (unfiltered)."""
        return self._records

    def cached(self) -> int:
        """Thumbnails held in the cache."""
        return len(self._cache)

    def requested(self) -> int:
        """Distinct thumbnails asked of the loader since the folder was set."""
        return len(self._requested)

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        if parent is not None and parent.isValid():
            return 0
        return len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        record = self._records[self._rows[index.row()]]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            info = record.info
            label = f"label {record.label}\n" if record.label else ""
            return (f"{record.relpath}\n{label}{info.width} × {info.height} px, "
                    f"{info.mode}, {info.bit_depth}-bit {info.format}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return record.relpath
        if role == RecordRole:
            return record
        if role == LabelRole:
            return record.label
        return None

    def _thumbnail(self, record: ImageRecord) -> QPixmap:
        key = str(record.path)
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        # Asked again on every paint until it arrives: the loader moves it to the front of
        # its queue, so the rows on screen now are decoded before those scrolled past.
        self._requested.add(key)
        self.loader.request((self._generation, key), key)
        return self._placeholder

    @Slot(object, object)
    def _on_ready(self, key: tuple[int, str], image: QImage | None) -> None:
        generation, path = key
        if generation != self._generation:
            return  # a result for a folder no longer shown
        self._cache[path] = self._broken if image is None else QPixmap.fromImage(image)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        row = self._row_of.get(path)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def icon_grid_size(icon: int, width: int | None = None) -> QSize:
    """The grid cell for an icon size: a small margin around each thumbnail.

    With ``width`` (the viewport's), cells widen so that whole columns fill it exactly.
    """
    cell = icon + 8
    if width is None or width < cell:
        return QSize(cell, cell)
    columns = max(1, width // cell)
    return QSize(width // columns, cell)


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws a thumbnail centred in its cell, with a quiet frame when hovered or selected."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        cell = QRectF(option.rect).adjusted(2, 2, -2, -2)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if selected or hovered:
            colour = QColor(palette.color(QPalette.ColorRole.Highlight))
            colour.setAlpha(70 if selected else 30)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1.5)
                           if selected else Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(cell, 5, 5)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            box = option.decorationSize
            size = pixmap.size().scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
            x = cell.center().x() - size.width() / 2
            y = cell.center().y() - size.height() / 2
            painter.drawPixmap(QRectF(x, y, size.width(), size.height()), pixmap,
                               QRectF(pixmap.rect()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        box = option.decorationSize
        return QSize(box.width() + 8, box.height() + 8)


class ThumbnailGrid(QListView):
    """An icon-mode list view whose columns always fill its width (no ragged gap)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icon = 56
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        # Uniform sizes: the view measures one item, not 50,000, and asks for the
        # decorations of the rows it paints only.
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # A scroll bar that comes and goes would change the width, and so the columns.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)  # hover frames
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.set_thumbnail_size(self._icon)

    def set_thumbnail_size(self, size: int) -> None:
        """Show thumbnails ``size`` pixels wide."""
        self._icon = size
        self.setIconSize(QSize(size, size))
        self._fit()

    def thumbnail_size(self) -> int:
        return self._icon

    def resizeEvent(self, event: Any) -> None:  # Qt override
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        # One pixel of slack: a row exactly as wide as the viewport would wrap early.
        size = icon_grid_size(self._icon, self.viewport().width() - 1)
        if size != self.gridSize():
            self.setGridSize(size)
