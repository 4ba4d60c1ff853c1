"""The window's size, the sizes of its docks, and their saved layout."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QGuiApplication

from aestudio.ui.common.settings import app_settings


class WindowLayout:
    """Geometry and dock layout of :class:`MainWindow`, kept in the settings.

    A mixin of :class:`~aestudio.ui.main_window.MainWindow`.
    """

    def reset_layout(self) -> None:
        """Put the docks and toolbar back where they start."""
        self.restoreState(self._default_state)
        for dock in self._docks:
            dock.setFloating(False)
            dock.show()
        self.toolbar.show()
        self._closed_docks.clear()
        app_settings().setValue("window/closed_docks", [])
        self.set_focus_mode(False)
        self.apply_tab_docks()
        self._size_docks()

    def _initial_size(self) -> QSize:
        screen = QGuiApplication.primaryScreen()
        size = QSize(1440, 900)
        if screen is not None:
            available = screen.availableGeometry().size()
            size = size.boundedTo(QSize(int(available.width() * 0.92),
                                        int(available.height() * 0.92)))
        return size

    def _size_docks(self) -> None:
        width = max(self.width(), 900)
        self.resizeDocks([self.dataset_dock, self.training_dock],
                         [int(width * 0.27), int(width * 0.26)], Qt.Orientation.Horizontal)

    def _restore_settings(self) -> None:
        settings = app_settings()
        geometry = settings.value("window/geometry")
        state = settings.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray | bytes) and geometry:
            restored = self.restoreGeometry(QByteArray(geometry))
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))
        if not restored:
            self._size_docks()
            screen = QGuiApplication.primaryScreen()
            if screen is not None:
                centre = screen.availableGeometry().center()
                self.move(centre.x() - self.width() // 2, centre.y() - self.height() // 2)

    def save_settings(self) -> None:
        """Remember the window's geometry and the layout of its docks."""
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.sync()
