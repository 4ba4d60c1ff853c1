"""The label counts of a folder: one row per label, click one to filter the grid."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

NO_LABEL = "(no label)"
MAX_ROWS = 11  # "All images" and ten labels (the MNIST digits) without scrolling


def section_title(text: str) -> QLabel:
    """A bold label heading a part of the panel."""
    label = QLabel(text)
    font = label.font()
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
    return label


class LabelTable(QTableWidget):
    """"All images" and then each label with its number of images.

    Each row's first item keeps its label (None for all) under ``Qt.UserRole``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setObjectName("labelCounts")
        self.setHorizontalHeaderLabels(["Label", "Images"])
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setHighlightSections(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setToolTip("Click a label to show only its images")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def fill(self, counts: dict[str, int], total: int) -> None:
        """Show ``counts`` by label under an "All images" row of ``total``, which is selected.

        No selection signal is sent: the caller shows every image itself.
        """
        self.blockSignals(True)
        self.setRowCount(0)
        rows: list[tuple[str, str | None, int]] = [("All images", None, total)]
        rows += [(label or NO_LABEL, label, count) for label, count in counts.items()]
        self.setRowCount(len(rows))
        for row, (text, label, count) in enumerate(rows):
            name = QTableWidgetItem(text)
            name.setData(Qt.ItemDataRole.UserRole, label)
            if label is None:
                font = name.font()
                font.setWeight(QFont.Weight.DemiBold)
                name.setFont(font)
            number = QTableWidgetItem(f"{count:,}")
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, 0, name)
            self.setItem(row, 1, number)
        self.selectRow(0)
        self.blockSignals(False)
        # Show every label when there are few (up to MAX_ROWS rows), scroll beyond.
        height = (self.horizontalHeader().sizeHint().height()
                  + self.verticalHeader().defaultSectionSize() * min(len(rows), MAX_ROWS)
                  + 2 * self.frameWidth())
        self.setFixedHeight(height)
