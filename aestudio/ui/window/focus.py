"""Which docks each central tab shows, and a focus mode that hides them all.

The Dataset and Training docks belong to training: the Training tab shows both, the Latent
map tab the Dataset dock (its map gets the rest of the width), and the two denoising tabs,
which have their own model and file pickers, none; a dock the person closed stays closed.
``F11`` (View > Focus on the view) hides
every dock and the toolbar, and brings them back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeySequence

from aestudio.ui.common.settings import app_settings

# Docks shown with each tab, by the tab's title; a tab not listed keeps the docks as they are,
# and docks named nowhere here (added later) are left alone.
TAB_DOCKS: dict[str, tuple[str, ...]] = {
    "Training": ("DatasetDock", "TrainingDock"),
    "Latent map": ("DatasetDock",),
    "Denoise": (),
    "Batch denoise": (),
}


class _CloseWatch(QObject):
    """Tells when a dock's own close button closed it (a hide() by the window does not)."""

    def __init__(self, closed: Callable[[str, bool], None], parent: QObject) -> None:
        super().__init__(parent)
        self._closed = closed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Close:
            self._closed(watched.objectName(), False)
        return False


class WindowFocus:
    """Docks that follow the central tab, and the focus mode.

    A mixin of :class:`~aestudio.ui.main_window.MainWindow`.
    """

    def _create_focus_action(self) -> None:
        self.focus_action = QAction("&Focus on the view", self)
        self.focus_action.setCheckable(True)
        self.focus_action.setShortcut(QKeySequence("F11"))
        self.focus_action.setStatusTip("Hide every panel and the toolbar (F11 brings them back)")
        self.focus_action.toggled.connect(self.set_focus_mode)
        self.view_menu.insertAction(self._view_separator, self.focus_action)
        self.tabs.currentChanged.connect(lambda _index: self.apply_tab_docks())
        # Docks the person closed stay closed on every tab until they open them again.
        saved = app_settings().value("window/closed_docks") or []
        self._closed_docks: set[str] = {str(n) for n in (saved if isinstance(saved, list)
                                                          else [saved])}
        self._close_watch = _CloseWatch(self._dock_chosen, self)
        for dock in self._docks:
            name = dock.objectName()
            dock.toggleViewAction().triggered.connect(
                lambda shown, name=name: self._dock_chosen(name, shown))
            dock.installEventFilter(self._close_watch)  # its own close button

    def _dock_chosen(self, name: str, shown: bool) -> None:
        if getattr(self, "_closing", False):
            return  # the window closing is not the person closing a panel
        if shown:
            self._closed_docks.discard(name)
        else:
            self._closed_docks.add(name)
        app_settings().setValue("window/closed_docks", sorted(self._closed_docks))

    def focus_mode(self) -> bool:
        """True while every dock and the toolbar are hidden."""
        return self.focus_action.isChecked()

    def set_focus_mode(self, on: bool) -> None:
        """Hide (``on``) or bring back every dock and the toolbar."""
        if self.focus_action.isChecked() != on:
            self.focus_action.setChecked(on)  # comes back here through toggled
            return
        if on:
            for dock in self._docks:
                dock.hide()
            self.toolbar.hide()
        else:
            self.toolbar.show()
            self.apply_tab_docks()

    def apply_tab_docks(self) -> None:
        """Show the docks that belong to the current tab and hide the others."""
        if self.focus_mode():
            return
        wanted = TAB_DOCKS.get(self.tabs.tabText(self.tabs.currentIndex()))
        if wanted is None:
            return
        managed = {name for names in TAB_DOCKS.values() for name in names}
        for dock in self._docks:
            if dock.objectName() not in managed or dock.isFloating():
                continue  # a panel the person placed on its own stays where it is
            dock.setVisible(dock.objectName() in wanted
                            and dock.objectName() not in self._closed_docks)
