"""Readable error dialogs: one line for people, the details (a traceback) folded away."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def first_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of ``text``, shortened to ``limit`` characters."""
    for line in str(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def error_box(parent: QWidget | None, title: str, message: str, details: str = "") -> QMessageBox:
    """Build (without showing) the error dialog :func:`show_error` shows."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(first_line(message) or title)
    if details.strip():
        # The "Show Details..." button keeps the traceback one click away.
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """Show a modal error dialog with ``message`` and, when given, expandable ``details``.

    Parameters
    ----------
    parent : QWidget or None
        The window the dialog belongs to.
    title : str
        The dialog's title, e.g. "Cannot open the model".
    message : str
        Shown as one line (the first line of the text).
    details : str
        Anything longer, such as a worker's traceback; hidden behind "Show Details...".
    """
    error_box(parent, title, message, details).exec()


def open_error(parent: QWidget, title: str, message: str, details: str,
               keep: list[QMessageBox]) -> QMessageBox:
    """Open an error dialog without blocking the event loop (window-modal).

    ``keep`` holds the open dialogs (so tests and callers can find them); a dialog leaves
    it when closed.
    """
    box = error_box(parent, title, message, details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.finished.connect(lambda _r, b=box: keep.remove(b) if b in keep else None)
    keep.append(box)
    box.open()
    return box
