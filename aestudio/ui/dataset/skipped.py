"""The skipped files of a folder: a count badge and a foldable table of files and reasons."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

if TYPE_CHECKING:
    from aestudio.core.data.records import Skipped

FOLD_ANIMATION_MS = 150


class SkippedModel(QAbstractTableModel):
    """Skipped files as a two-column table: the file (relative to the folder) and why."""

    HEADERS = ("File", "Reason")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._root: Path | None = None
        self._items: tuple[Skipped, ...] = ()

    def set_items(self, root: Path, items: tuple[Skipped, ...]) -> None:
        """Show ``items``; paths are shown relative to ``root``."""
        self.beginResetModel()
        self._root = root
        self._items = tuple(items)
        self.endResetModel()

    def items(self) -> tuple[Skipped, ...]:
        """The skipped files shown."""
        return self._items

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else 2

    def _name(self, path: Path) -> str:
        if self._root is not None:
            try:
                return path.relative_to(self._root).as_posix()
            except ValueError:
                pass
        return str(path)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._name(item.path) if index.column() == 0 else item.reason
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.path}\n{item.reason}"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None



class CountBadge(QLabel):
    """A small rounded count, quiet at zero and warm otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("0", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(24)
        self.set_count(0)

    def set_count(self, count: int) -> None:
        """Show ``count``."""
        self.setText(f"{count:,}")
        colours = ("palette(button)", "palette(button-text)") if count == 0 \
            else ("#ffe8a3", "#6b4700")
        self.setStyleSheet(f"QLabel {{ background: {colours[0]}; color: {colours[1]}; "
                           "border-radius: 8px; padding: 1px 7px; font-weight: 600; }")



class SkippedFiles(QWidget):
    """A foldable "Skipped files" section with a count badge over the files and reasons.

    The fold is a :class:`superqt.QCollapsible` (as the training panel's advanced options);
    its toggle button sits in a row with the badge.

    Parameters
    ----------
    parent : QWidget, optional
        The owner.

    Attributes
    ----------
    section : QCollapsible
        Folds the table; folded at first.
    toggle : QPushButton
        The section's toggle button.
    badge : CountBadge
        How many files were skipped.
    table : QTableView
        The files (relative to the folder) and why each was left out.
    model : SkippedModel
        The table's rows.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SkippedModel(self)
        self.table = QTableView()
        self.table.setObjectName("skippedFiles")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)  # reasons wrap; file names are elided in the middle
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setAlternatingRowColors(True)
        self.table.setMinimumHeight(120)
        self.table.setMaximumHeight(200)

        self.section = QCollapsible("Skipped files", expandedIcon="▼", collapsedIcon="▶")
        self.section.setDuration(FOLD_ANIMATION_MS)
        self.section.layout().setContentsMargins(0, 0, 0, 0)
        self.section.content().layout().setContentsMargins(0, 0, 0, 0)
        self.section.addWidget(self.table)
        self.section.toggled.connect(self._on_toggled)
        self.toggle = self.section.toggleButton()
        self.toggle.setObjectName("skippedToggle")
        self.badge = CountBadge()
        self.badge.setToolTip("Files that are not used, each with its reason")
        # The toggle moves into a header row beside the badge; it still folds the section.
        self.section.layout().removeWidget(self.toggle)
        header = QHBoxLayout()
        header.addWidget(self.toggle)
        header.addWidget(self.badge)
        header.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addLayout(header)
        box.addWidget(self.section)

    def set_items(self, root: Path, items: tuple[Skipped, ...]) -> None:
        """Show ``items`` (paths under ``root``), folded."""
        self.model.set_items(root, items)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(self.table.columnWidth(0),
                                         max(120, self.table.viewport().width() * 2 // 5)))
        self.badge.set_count(len(items))
        self.toggle.setEnabled(bool(items))
        self.set_expanded(False)

    def is_expanded(self) -> bool:
        """True while the table shows."""
        return self.section.isExpanded()

    def set_expanded(self, expanded: bool) -> None:
        """Show or fold the table at once (a click on the toggle animates)."""
        if expanded:
            self._fit_rows()
            self.section.expand(animate=False)
        else:
            self.section.collapse(animate=False)

    def _on_toggled(self, expanded: bool) -> None:
        if expanded:
            self._fit_rows()

    def _fit_rows(self) -> None:
        # Wrapped reasons need taller rows; measuring is cheap for the few hundred a
        # person reads, and long lists keep one line per file.
        if self.model.rowCount() <= 500:
            self.table.resizeRowsToContents()
