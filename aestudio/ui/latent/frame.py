"""The latent explorer's frame: the map column between two side columns, in a scroll area."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QSplitter, QVBoxLayout, QWidget


def map_column(*parts: QWidget, stretch: QWidget) -> QWidget:
    """``parts`` stacked top to bottom; ``stretch`` takes the spare height."""
    column = QWidget()
    column.setMinimumWidth(300)
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        layout.addWidget(part, 1 if part is stretch else 0)
    return column


def install_frame(owner: QWidget, left: QWidget, centre: QWidget, right: QWidget) -> None:
    """Lay ``owner`` out as three resizable columns; the centre one grows.

    The columns sit in a scroll area: in a small window the explorer scrolls instead of
    forcing the window to grow.
    """
    splitter = QSplitter(Qt.Orientation.Horizontal)
    for i, (widget, stretch) in enumerate(((left, 0), (centre, 1), (right, 0))):
        splitter.addWidget(widget)
        splitter.setStretchFactor(i, stretch)
    splitter.setSizes([130, 800, 250])
    inner = QWidget()
    inner_layout = QHBoxLayout(inner)
    inner_layout.setContentsMargins(4, 4, 4, 4)
    inner_layout.addWidget(splitter)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(inner)
    layout = QHBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(scroll)
