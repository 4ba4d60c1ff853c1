"""Dropping folders and model files on the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from aestudio.core.facts import MODEL_SUFFIX


def local_paths(urls: list[QUrl]) -> list[Path]:
    """The local files and folders among dropped URLs."""
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile() and url.toLocalFile()]



class WindowDrops:
    """Drag and drop of :class:`MainWindow`: a folder opens as data, a model file as model.

    A mixin of :class:`~aestudio.ui.main_window.MainWindow`.
    """

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt override
        paths = local_paths(event.mimeData().urls()) if event.mimeData().hasUrls() else []
        if self.is_ready() and any(p.is_dir() or p.suffix.lower() == MODEL_SUFFIX for p in paths):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:  # Qt override
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt override
        paths = local_paths(event.mimeData().urls()) if event.mimeData().hasUrls() else []
        folders = [p for p in paths if p.is_dir()]
        models = [p for p in paths if p.is_file() and p.suffix.lower() == MODEL_SUFFIX]
        if not folders and not models:
            event.ignore()
            return
        event.acceptProposedAction()
        if folders:
            self.open_folder(folders[0])
        if models:
            self.open_model(models[0])
