"""Icons: the bundled app icon and the style's standard icons for actions."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication

from aestudio.resources import ICON_SIZES, icon_path


@cache
def app_icon() -> QIcon:
    """The aestudio icon, with a rendered PNG for each common size and the SVG for the rest."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = icon_path(size)
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    svg = icon_path()
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def standard_icon(name: str) -> QIcon:
    """A standard icon of the current style by its ``QStyle.StandardPixmap`` name.

    Parameters
    ----------
    name : str
        For example ``"SP_DirOpenIcon"`` or ``"SP_DialogSaveButton"``.
    """
    from PySide6.QtWidgets import QStyle  # its many enums are built on first use

    pixmap = getattr(QStyle.StandardPixmap, name)
    return QApplication.style().standardIcon(pixmap)


@cache
def blank_icon(size: int = 20) -> QIcon:
    """A transparent icon of ``size`` pixels: holds an icon's place until the real one is set."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    return QIcon(pixmap)
