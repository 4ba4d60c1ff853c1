"""The window's actions, menus, toolbar and status bar, and the file dialogs they open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QToolBar

from aestudio.core.facts import MODEL_SUFFIX
from aestudio.ui.common.icons import blank_icon, standard_icon
from aestudio.ui.common.settings import forget_folders, recent_folders
from aestudio.ui.denoise.bundled_model import bundled_model_path

TOOLBAR_ICON_PX = 20
MODEL_FILTER = f"aestudio models (*{MODEL_SUFFIX});;All files (*)"
# Status-bar names of background jobs (by Worker.name); None hides a job.
JOB_NAMES: dict[str, str | None] = {
    "scan": "Scanning folder",
    "thumbnails": None,
    "noise-estimate": None,  # a moment, on each image selected
    "warm-up": "Loading PyTorch",
    "engine-start": "Loading the engine",
    "engine-warm-up": "Loading the engine",
    "open-model": "Reading model",
    "model-summary": "Reading model",
    "save-model": "Saving model",
    "training": "Training",
    "live latent map": None,  # about once a second while training: it would flicker
}


class WindowActions:
    """Actions, menus, toolbar, status bar and file dialogs of :class:`MainWindow`.

    A mixin of :class:`~aestudio.ui.main_window.MainWindow`: it uses the window's pool,
    panels and slots.
    """

    def _action(self, text: str, slot: Any, shortcut: str | QKeySequence | None = None,
                icon: str | None = None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon:
            # The style's icons are set just after the first paint (see _apply_icons).
            action.setIcon(blank_icon(TOOLBAR_ICON_PX))
            self._action_icons.append((action, icon))
        if tip:
            action.setStatusTip(tip)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.triggered.connect(slot)
        return action

    def _apply_icons(self) -> None:
        """Give each action its standard icon in place of the blank one it started with."""
        for action, name in self._action_icons:
            action.setIcon(standard_icon(name))
        self._action_icons = []

    def _create_actions(self) -> None:
        self._action_icons: list[tuple[QAction, str]] = []
        self.open_folder_action = self._action(
            "&Open folder…", self.choose_folder, "Ctrl+O", "SP_DirOpenIcon",
            "Open a folder of images (subfolders are labels)")
        self.open_model_action = self._action(
            "Open &model…", self.choose_model, "Ctrl+M", "SP_FileDialogContentsView",
            "Open a trained model file to continue training it")
        self.bundled_model_action = self._action(
            "Open the bundled &photo denoiser", self.open_bundled_model, None, None,
            "Denoise with the model that ships with aestudio (no training needed)")
        self.bundled_model_action.setEnabled(bundled_model_path() is not None)
        self.save_model_action = self._action(
            "&Save model as…", self.choose_save_model, "Ctrl+S", "SP_DialogSaveButton",
            "Save a copy of the current model file")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q", None, "Quit aestudio")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.reset_layout_action = self._action(
            "&Reset layout", self.reset_layout, None, None,
            "Put every panel back where it starts")
        self.about_action = self._action("&About aestudio", self.show_about, None,
                                         "SP_MessageBoxInformation",
                                         "Version, credits and licences")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.demo_digits_action = self._action(
            "Handwritten &digits (MNIST)", lambda: self._open_demo("digits"), None, None,
            "Open the 3,000 bundled MNIST digits")
        self.demo_photos_action = self._action(
            "&Photos and textures", lambda: self._open_demo("photos"), None, None,
            "Open the eight bundled sample photos")
        self.clear_recent_action = self._action("&Clear list", self._clear_recent)

    def _create_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.file_menu.addAction(self.open_folder_action)
        self.demo_menu = self.file_menu.addMenu("Open &demo")
        self.demo_menu.addAction(self.demo_digits_action)
        self.demo_menu.addAction(self.demo_photos_action)
        self.recent_menu = self.file_menu.addMenu("Recent &folders")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.open_model_action)
        self.file_menu.addAction(self.bundled_model_action)
        self.file_menu.addAction(self.save_model_action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

        self.view_menu = bar.addMenu("&View")
        self._view_separator = self.view_menu.addSeparator()
        self.view_menu.addAction(self.reset_layout_action)

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(self.about_action)
        self._fill_recent_menu()

    def _create_toolbar(self) -> None:
        self.toolbar = QToolBar("Main toolbar")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(QSize(TOOLBAR_ICON_PX, TOOLBAR_ICON_PX))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.addAction(self.open_folder_action)
        self.toolbar.addAction(self.open_model_action)
        self.toolbar.addAction(self.save_model_action)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.about_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.view_menu.insertAction(self._view_separator, self.toolbar.toggleViewAction())

    def _create_status_bar(self) -> None:
        status = self.statusBar()
        status.setSizeGripEnabled(True)
        self.job_label = QLabel("Ready")
        self.job_label.setObjectName("jobLabel")
        self.job_label.setToolTip("Work running in the background")
        self.device_label = QLabel("Device: loading PyTorch…")
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setToolTip("Where models train and run")
        for label in (self.job_label, self.device_label):
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label)
        self._job_timer = QTimer(self)
        self._job_timer.setInterval(400)
        self._job_timer.timeout.connect(self._refresh_jobs)
        self.pool.busy_changed.connect(self._on_pool_busy)

    def choose_folder(self) -> None:
        """Ask for a folder and open it."""
        start = self.dataset_panel.folder() or (recent_folders() or [str(Path.home())])[0]
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images",
                                                  str(Path(start).parent))
        if folder:
            self.open_folder(folder)

    def choose_model(self) -> None:
        """Ask for a model file and open it."""
        start = str(Path(self.current_model_path() or Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.open_model(path)

    def choose_save_model(self) -> None:
        """Ask where to save a copy of the current model file."""
        source = self.current_model_path()
        if not source:
            self.show_status("No model to save yet: train one or open a model file.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the model as", source, MODEL_FILTER)
        if path:
            self.save_model_as(path)

    def _open_demo(self, name: str) -> None:
        from aestudio.resources import demo_folder

        self.open_folder(demo_folder(name))

    def _fill_recent_menu(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        folders = recent_folders()
        for folder in folders:
            action = menu.addAction(folder)
            action.setEnabled(Path(folder).is_dir())
            action.triggered.connect(lambda _checked=False, f=folder: self.open_folder(f))
        if not folders:
            empty = menu.addAction("No recent folders")
            empty.setEnabled(False)
        menu.addSeparator()
        menu.addAction(self.clear_recent_action)
        self.clear_recent_action.setEnabled(bool(folders))

    def _clear_recent(self) -> None:
        forget_folders()
        self._fill_recent_menu()

    @Slot(bool)
    def _on_pool_busy(self, busy: bool) -> None:
        if busy:
            self._job_timer.start()
        else:
            self._job_timer.stop()
        self._refresh_jobs()

    def _refresh_jobs(self) -> None:
        names: list[str] = []
        for worker in self.pool.running():
            try:
                name = worker.name
            except RuntimeError:  # deleted with its thread a moment ago
                continue
            shown = JOB_NAMES.get(name, name)
            if shown and shown not in names:
                names.append(shown)
        self.job_label.setText(", ".join(names) + "…" if names else "Ready")

    def open_bundled_model(self) -> None:
        """Open the bundled ``photo`` denoiser in every view that denoises."""
        path = bundled_model_path()
        if path is None:
            self.show_status("This installation has no bundled model.")
            return
        self.open_model(path)

    def show_about(self) -> None:
        """Show the About dialog (version, credits, licences)."""
        from aestudio.ui.about import AboutDialog  # not needed for the first paint

        AboutDialog(self).exec()
