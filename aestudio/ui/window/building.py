"""Building the window's panels: all at once, or one by one after the frame is on screen.

The frame (menus, toolbar, status bar, the central tabs and the two docks) needs only Qt;
the panels import their own modules (the plots, the image views) and take most of the
start-up time. The app shows the frame first, with a "Loading…" page in each tab and dock,
and puts each panel in its place between paints, so that the window is on screen as soon as
a bare Qt window would be and fills in while the person looks at it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QWidget

# The central tabs, in order, and the docks with the side they start on.
TAB_TITLES = ("Training", "Denoise", "Batch denoise", "Latent map")
DOCKS = (("Dataset", Qt.DockWidgetArea.LeftDockWidgetArea),
         ("Training", Qt.DockWidgetArea.RightDockWidgetArea))


def loading_page(what: str) -> QLabel:
    """The page a tab or dock shows until its panel is built."""
    label = QLabel(f"Loading the {what}…")
    label.setObjectName("loadingPage")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setEnabled(False)  # drawn in the muted text colour
    return label


class WindowBuilding:
    """The frame's place-holders and the stages that build the real panels.

    A mixin of :class:`~aestudio.ui.main_window.MainWindow`.
    """

    def _create_placeholders(self) -> None:
        self._ready = False
        self._when_ready: list[Callable[[], None]] = []
        for title in TAB_TITLES:
            page = loading_page(f"{title} view")
            page.setObjectName(f"{''.join(ch for ch in title.title() if ch.isalnum())}Loading")
            self.tabs.addTab(page, title)
        docks: dict[str, QDockWidget] = {}
        for title, area in DOCKS:
            docks[title] = self.add_dock(loading_page(f"{title} panel"), title, area)
        self.dataset_dock = docks["Dataset"]
        self.training_dock = docks["Training"]

    def _stages(self) -> list[Callable[[], None]]:
        return [self._apply_icons, self._build_dataset, self._build_training, self._build_compare,
                self._build_batch, self._build_latent, self._finish_building]

    def _build_now(self) -> None:
        """Build every panel before returning."""
        for stage in self._stages():
            stage()

    def _build_between_paints(self) -> None:
        """Build one panel per turn of the event loop, so that the window repaints between."""
        stages = self._stages()

        def next_stage() -> None:
            if getattr(self, "_closing", False):
                return  # closed while loading: nothing more to build
            stages.pop(0)()
            if stages:
                QTimer.singleShot(0, next_stage)

        QTimer.singleShot(0, next_stage)

    def _put_tab(self, title: str, widget: QWidget) -> None:
        index = next(i for i in range(self.tabs.count()) if self.tabs.tabText(i) == title)
        old = self.tabs.widget(index)
        current = self.tabs.currentIndex()
        if not widget.objectName():
            widget.setObjectName(f"{''.join(ch for ch in title.title() if ch.isalnum())}Tab")
        blocked = self.tabs.blockSignals(True)  # the same tab stays current: no dock change
        try:
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, widget, title)
            self.tabs.setCurrentIndex(current)
        finally:
            self.tabs.blockSignals(blocked)
        old.deleteLater()

    @staticmethod
    def _put_dock(dock: QDockWidget, widget: QWidget) -> None:
        old = dock.widget()
        dock.setWidget(widget)
        if old is not None:
            old.deleteLater()

    def _build_dataset(self) -> None:
        from aestudio.ui.dataset.panel import DatasetPanel

        self.dataset_panel = DatasetPanel(self.pool)
        self._put_dock(self.dataset_dock, self.dataset_panel)

    def _build_training(self) -> None:
        from aestudio.ui.training.panel import TrainingPanel

        self.training_panel = TrainingPanel(self.pool)
        self.training_tab = self.training_panel.monitor_widget()
        self._put_tab("Training", self.training_tab)
        self._put_dock(self.training_dock, self.training_panel)

    def _build_compare(self) -> None:
        from aestudio.ui.denoise.compare_view import CompareView

        self.compare_view = CompareView(self.pool)
        self._put_tab("Denoise", self.compare_view)

    def _build_batch(self) -> None:
        from aestudio.ui.denoise.batch_panel import BatchDenoisePanel

        self.batch_panel = BatchDenoisePanel(self.pool)
        self._put_tab("Batch denoise", self.batch_panel)

    def _build_latent(self) -> None:
        from aestudio.ui.latent.explorer import LatentExplorer

        self.latent_explorer = LatentExplorer(self.pool)
        self._put_tab("Latent map", self.latent_explorer)

    def _finish_building(self) -> None:
        self._connect_panels()
        self._ready = True
        self._set_file_actions_enabled(True)
        self._update_actions()
        self.ready.emit()
        calls, self._when_ready = self._when_ready, []
        for call in calls:
            call()

    def is_ready(self) -> bool:
        """True once every panel is built (at once, or after the frame was shown)."""
        return self._ready

    def when_ready(self, call: Callable[[], None]) -> None:
        """Call ``call`` now if the panels are built, else as soon as they are."""
        if self._ready:
            call()
        else:
            self._when_ready.append(call)

    def _set_file_actions_enabled(self, enabled: bool) -> None:
        for action in (self.open_folder_action, self.open_model_action,
                       self.save_model_action, self.demo_digits_action,
                       self.demo_photos_action):
            action.setEnabled(enabled)
        self.recent_menu.setEnabled(enabled)
