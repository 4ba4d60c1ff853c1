"""The batch queue as a table: one row per file with its size, depth, status and progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QWidget,
)

from aestudio.core.io.formats import ImageInfo

__all__ = ["CANCELLED", "COLUMNS", "DONE", "FAILED", "NOT_STARTED", "PROGRESS_COLUMN", "RUNNING",
           "WAITING", "BatchRow", "BatchTableModel", "ProgressDelegate"]

COLUMNS = ("File", "Size", "Depth", "Status", "Progress")
PROGRESS_COLUMN = 4

WAITING, RUNNING, DONE, FAILED, CANCELLED, NOT_STARTED = (
    "waiting", "running", "done", "failed", "cancelled", "not started")


@dataclass(frozen=True)
class BatchRow:
    """One file of the queue and what happened to it."""

    path: Path
    relative: str
    info: ImageInfo | None
    status: str = WAITING
    progress: float = 0.0
    message: str = ""  # why the batch failed on it
    problem: str = ""  # why its header could not be read when it was added
    target: Path | None = None


def _status_text(row: BatchRow) -> str:
    if row.status == WAITING:
        return f"Unreadable: {row.problem}" if row.problem else "Waiting"
    if row.status == RUNNING:
        return "Denoising…"
    if row.status == DONE:
        return f"Done → {row.target.name}" if row.target else "Done"
    if row.status == FAILED:
        return f"Failed: {row.message}"
    if row.status == CANCELLED:
        return "Cancelled"
    return "Not started"


class BatchTableModel(QAbstractTableModel):
    """The queue as a table: file, size, bit depth, status, progress (0..1 in UserRole)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[BatchRow] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.relative
            if column == 1:
                return f"{row.info.width} × {row.info.height}" if row.info else "—"
            if column == 2:
                if row.info is None:
                    return "—"
                colour = "gray" if row.info.channels == 1 else "RGB"
                return f"{row.info.bit_depth}-bit {colour}"
            if column == 3:
                return _status_text(row)
            return None
        if role == Qt.ItemDataRole.UserRole and column == PROGRESS_COLUMN:
            return row.progress
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 3 and (row.message or row.problem):
                return row.message or row.problem
            if column == 3 and row.target is not None:
                return str(row.target)
            return str(row.path)
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            if row.status == FAILED:
                return QColor("#c92a2a")
            if row.status == WAITING and row.problem:
                return QColor("#e67700")
            if row.status == DONE:
                return QColor("#2b8a3e")
        return None

    def add(self, rows: Iterable[BatchRow]) -> int:
        """Append rows (with resolved paths) not queued yet; returns how many were added."""
        known = {r.path for r in self.rows}
        new = []
        for row in rows:
            if row.path not in known:
                known.add(row.path)
                new.append(row)
        if new:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new) - 1)
            self.rows.extend(new)
            self.endInsertRows()
        return len(new)

    def folders(self) -> set[Path]:
        """The folders holding queued files."""
        return {row.path.parent for row in self.rows}

    def update(self, index: int, **changes: Any) -> None:
        self.rows[index] = replace(self.rows[index], **changes)
        self.dataChanged.emit(self.index(index, 0), self.index(index, len(COLUMNS) - 1))

    def remove(self, indices: Iterable[int]) -> None:
        for index in sorted(set(indices), reverse=True):
            self.beginRemoveRows(QModelIndex(), index, index)
            del self.rows[index]
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows.clear()
        self.endResetModel()


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a small progress bar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        fraction = index.data(Qt.ItemDataRole.UserRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(4, 5, -4, -5))
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = round(float(fraction) * 1000)
        bar.textVisible = True
        bar.text = f"{fraction * 100:.0f}%"
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.palette = option.palette
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


