"""The studio window: dockable panels around a central tab widget.

The Dataset panel docks on the left, the Training panel on the right, and the central tabs
hold the large views (the "Training" tab shows the loss curves and live samples). Later
panels plug in with :meth:`MainWindow.add_central_tab` and :meth:`MainWindow.add_dock`.

Nothing imported here imports torch: the window shows first, then
:meth:`MainWindow.start_warm_up` loads torch in a background job and names the compute
device in the status bar.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QWidget,
)

from aestudio.ui.about import AboutDialog
from aestudio.ui.common import qt_fixes  # noqa: F401  (before any signal is emitted)
from aestudio.ui.common.errors import first_line, show_error
from aestudio.ui.common.icons import app_icon, standard_icon
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.settings import (
    app_settings,
    forget_folders,
    recent_folders,
    remember_folder,
)
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.dataset.panel import DatasetPanel
from aestudio.ui.denoise.batch_panel import BatchDenoisePanel
from aestudio.ui.denoise.compare_view import CompareView
from aestudio.ui.latent.explorer import LatentExplorer
from aestudio.ui.training.panel import TrainingPanel

MODEL_FILTER = "aestudio models (*.aemodel);;All files (*)"
MODEL_SUFFIX = ".aemodel"
CLOSE_WAIT_MS = 10_000  # bounded wait for background jobs when the window closes
EXIT_WAIT_MS = 30_000  # a last wait at exit (torch being imported cannot be interrupted)
STOP_TRAINING_WAIT_MS = 15_000
STATUS_MESSAGE_MS = 8_000
# Status-bar names of background jobs (by Worker.name); None hides a job.
JOB_NAMES: dict[str, str | None] = {
    "scan": "Scanning folder",
    "thumbnails": None,
    "warm-up": "Loading PyTorch",
    "engine-start": "Loading the engine",
    "open-model": "Reading model",
    "model-summary": "Reading model",
    "save-model": "Saving model",
    "training": "Training",
    "live latent map": None,  # about once a second while training: it would flicker
}


def warm_up(_worker: Worker | None = None) -> str:
    """Import torch and the device helpers; return the compute device in words."""
    from aestudio.core.runtime.device import describe_device, resolve_device

    return describe_device(resolve_device("auto"))


def local_paths(urls: list[QUrl]) -> list[Path]:
    """The local files and folders among dropped URLs."""
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile() and url.toLocalFile()]


def _slug(title: str) -> str:
    return "".join(ch for ch in title.title() if ch.isalnum()) or "Panel"


class MainWindow(QMainWindow):
    """The aestudio main window.

    Parameters
    ----------
    pool : WorkerPool, optional
        Runs every background job of the window and its panels; a new one by default.

    Attributes
    ----------
    dataset_panel : DatasetPanel
        The left dock.
    training_panel : TrainingPanel
        The right dock; its monitor is the central "Training" tab.
    tabs : QTabWidget
        The central tabs.

    Signals
    -------
    device_ready(str)
        torch is loaded; the compute device in words (also shown in the status bar).
    folder_opened(str)
        A folder was scanned and is shown (and handed to the training panel).
    first_painted()
        The window has been drawn once; start-up work may begin.
    """

    device_ready = Signal(str)  # the compute device in words, once torch is loaded
    folder_opened = Signal(str)  # a folder was scanned and is shown
    first_painted = Signal()  # the window has been drawn once: heavy work may start

    def __init__(self, pool: WorkerPool | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("aestudio")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.pool = pool if pool is not None else WorkerPool(self)
        self.device_name: str | None = None
        self._docks: list[QDockWidget] = []
        self._warm_up: JobRelay | None = None
        self._closing = False
        self._painted = False
        self._model_path: str | None = None

        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setMovable(True)
        self.setCentralWidget(self.tabs)

        self._create_actions()
        self._create_menus()
        self._create_toolbar()
        self._create_status_bar()

        self.dataset_panel = DatasetPanel(self.pool)
        self.training_panel = TrainingPanel(self.pool)
        self.training_tab = self.training_panel.monitor_widget()
        self.add_central_tab(self.training_tab, "Training")
        self.compare_view = CompareView(self.pool)
        self.add_central_tab(self.compare_view, "Denoise")
        self.batch_panel = BatchDenoisePanel(self.pool)
        self.add_central_tab(self.batch_panel, "Batch denoise")
        self.latent_explorer = LatentExplorer(self.pool)
        self.add_central_tab(self.latent_explorer, "Latent map")
        self.dataset_dock = self.add_dock(self.dataset_panel, "Dataset",
                                          Qt.DockWidgetArea.LeftDockWidgetArea)
        self.training_dock = self.add_dock(self.training_panel, "Training",
                                           Qt.DockWidgetArea.RightDockWidgetArea)
        self._connect_panels()

        self._default_geometry = self._initial_size()
        self.resize(self._default_geometry)
        self._default_state = self.saveState()
        self._restore_settings()
        self._update_actions()

    # -- building ----------------------------------------------------------------------------
    def _action(self, text: str, slot: Any, shortcut: str | QKeySequence | None = None,
                icon: str | None = None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon:
            action.setIcon(standard_icon(icon))
        if tip:
            action.setStatusTip(tip)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.triggered.connect(slot)
        return action

    def _create_actions(self) -> None:
        self.open_folder_action = self._action(
            "&Open folder…", self.choose_folder, "Ctrl+O", "SP_DirOpenIcon",
            "Open a folder of images (subfolders are labels)")
        self.open_model_action = self._action(
            "Open &model…", self.choose_model, "Ctrl+M", "SP_FileDialogContentsView",
            "Open a trained model file to continue training it")
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
        self.toolbar.setIconSize(QSize(20, 20))
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

    def _connect_panels(self) -> None:
        data = self.dataset_panel
        data.folder_loaded.connect(self._on_folder_loaded)
        data.status_message.connect(self.show_status)
        data.open_requested.connect(self.choose_folder)
        data.scan_started.connect(lambda _folder: self._refresh_jobs())
        train = self.training_panel
        train.status_message.connect(self.show_status)
        train.running_changed.connect(self._on_training_running)
        train.training_finished.connect(self._on_training_finished)
        train.model_ready.connect(self._on_model_ready)
        # An autoencoder's weights while it trains: the latent map follows them.
        train.training_snapshot.connect(self.latent_explorer.show_training_snapshot)

    # -- public API --------------------------------------------------------------------------
    def add_central_tab(self, widget: QWidget, title: str) -> int:
        """Add a large view as a central tab; return its index.

        Parameters
        ----------
        widget : QWidget
            The view (the window takes ownership).
        title : str
            The tab's text.
        """
        if not widget.objectName():
            widget.setObjectName(f"{_slug(title)}Tab")
        return self.tabs.addTab(widget, title)

    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Put a panel in a dock; it gets a show/hide entry in the View menu.

        Parameters
        ----------
        widget : QWidget
            The panel (the dock takes ownership).
        title : str
            The dock's title, also its View menu entry.
        area : Qt.DockWidgetArea
            Where it docks first (left, right, top or bottom).

        Returns
        -------
        QDockWidget
            The dock; its object name (``<Title>Dock``) keys the saved layout.
        """
        dock = QDockWidget(title, self)
        name = f"{_slug(title)}Dock"
        taken = {d.objectName() for d in self._docks}
        n = 2
        while name in taken:
            name = f"{_slug(title)}{n}Dock"
            n += 1
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self._docks.append(dock)
        toggle = dock.toggleViewAction()
        toggle.setText(f"{title} panel")
        toggle.setStatusTip(f"Show or hide the {title} panel")
        self.view_menu.insertAction(self._view_separator, toggle)
        return dock

    def docks(self) -> list[QDockWidget]:
        """Every dock added with :meth:`add_dock`, in order."""
        return list(self._docks)

    def open_folder(self, folder: str | Path) -> None:
        """Scan ``folder`` and show it in the Dataset panel (it becomes the training data)."""
        self.dataset_panel.open_folder(folder)

    def open_model(self, path: str | Path) -> None:
        """Check a model file in the background, then hand it to the Training panel.

        A file that is not a usable model gives a one-line error dialog.
        """
        path = str(Path(path).expanduser())

        def job(_worker: Worker) -> dict[str, Any]:
            from aestudio.core.models.modelfile import read_model_meta

            return read_model_meta(path)

        relay = start_job(self.pool, job, "open-model", parent=self)
        relay.succeeded.connect(lambda meta: self._on_model_checked(path, meta))
        relay.failed.connect(lambda message, details: self._on_model_failed(path, message,
                                                                            details))
        self.show_status(f"Reading {Path(path).name}…")

    def save_model_as(self, target: str | Path) -> None:
        """Copy the current model file to ``target`` (in the background)."""
        source = self.current_model_path()
        if not source:
            self.show_status("No model to save yet: train one or open a model file.")
            return
        target = Path(target).expanduser()
        if target.suffix.lower() != MODEL_SUFFIX:
            target = target.with_name(target.name + MODEL_SUFFIX)

        def job(_worker: Worker) -> str:
            if Path(source).resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.tmp")
                shutil.copyfile(source, tmp)
                tmp.replace(target)  # a reader never sees half a file
            return str(target)

        relay = start_job(self.pool, job, "save-model", parent=self)
        relay.succeeded.connect(lambda path: self.show_status(f"Saved the model to {path}"))
        relay.failed.connect(lambda message, details: self._report(
            "Cannot save the model", message, details))

    def current_model_path(self) -> str | None:
        """The model file Save model as copies: the trained or opened one, or None."""
        path = self.training_panel.current_model_path() or self._model_path
        return path if path and Path(path).is_file() else None

    def recent_folders(self) -> list[str]:
        """Recently opened folders, newest first."""
        return recent_folders()

    def start_warm_up(self) -> None:
        """Import torch in the background, then show the compute device in the status bar."""
        if self._warm_up is not None or self.device_name is not None:
            return
        self._warm_up = start_job(self.pool, warm_up, "warm-up", parent=self)
        self._warm_up.succeeded.connect(self._on_device)
        self._warm_up.failed.connect(self._on_warm_up_failed)

    def reset_layout(self) -> None:
        """Put the docks and toolbar back where they start."""
        self.restoreState(self._default_state)
        for dock in self._docks:
            dock.setFloating(False)
            dock.show()
        self.toolbar.show()
        self._size_docks()

    def show_about(self) -> None:
        """Show the About dialog (version, credits, licences)."""
        AboutDialog(self).exec()

    @Slot(str)
    def show_status(self, text: str) -> None:
        """Show a short message in the status bar for a few seconds."""
        self.statusBar().showMessage(first_line(text), STATUS_MESSAGE_MS)

    # -- file dialogs ------------------------------------------------------------------------
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

    # -- reactions ---------------------------------------------------------------------------
    def _on_folder_loaded(self, folder: str) -> None:
        remember_folder(folder)
        self._fill_recent_menu()
        self.setWindowTitle(f"{Path(folder).name} — aestudio")
        self.training_panel.set_folder(folder)
        self.latent_explorer.set_folder(folder)  # encodes once an autoencoder is open
        self.folder_opened.emit(folder)

    def _share_model(self, path: str, kind: str | None) -> None:
        """Hand a model file to every view that uses one (each loads it in a worker)."""
        self.compare_view.set_model(path)
        if kind == "denoiser":
            self.batch_panel.set_model(path)
        elif kind == "autoencoder":
            self.latent_explorer.set_model(path)

    def _on_model_checked(self, path: str, meta: dict[str, Any]) -> None:
        self._model_path = path
        self.training_panel.set_model_file(path)
        self._share_model(path, meta.get("kind"))
        steps = (meta.get("training_state") or {}).get("step")
        trained = f", trained {steps:,} steps" if isinstance(steps, int) else ""
        self.show_status(f"Opened {Path(path).name}: {meta.get('architecture', '?')}{trained}")
        self._update_actions()

    def _on_model_failed(self, path: str, message: str, details: str) -> None:
        self.show_status(f"Cannot open {Path(path).name}: {message}")
        show_error(self, "Cannot open the model", message, details)

    def _on_model_ready(self, path: str) -> None:
        if path:
            self._model_path = path
        self._update_actions()

    def _on_training_running(self, running: bool) -> None:
        self._update_actions()
        self._refresh_jobs()

    def _on_training_finished(self, reason: str, path: str) -> None:
        self.latent_explorer.end_training(reason)  # before the final model file takes over
        if path:
            self._model_path = path
            model = self.training_panel.current_model()
            self._share_model(path, "denoiser" if model == "denoiser" else "autoencoder")
        self._update_actions()

    def _on_device(self, name: str) -> None:
        self.device_name = name
        self._warm_up = None
        self.device_label.setText(f"Device: {name}")
        self.device_ready.emit(name)

    def _on_warm_up_failed(self, message: str, details: str) -> None:
        self._warm_up = None
        self.device_label.setText("Device: unavailable")
        self._report("PyTorch could not be loaded", message, details)

    def _report(self, title: str, message: str, details: str) -> None:
        self.show_status(f"{title}: {message}")
        show_error(self, title, message, details)

    def _update_actions(self) -> None:
        self.save_model_action.setEnabled(self.current_model_path() is not None)

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

    # -- layout and settings -----------------------------------------------------------------
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

    def showEvent(self, event: Any) -> None:  # Qt override
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            if not app_settings().value("window/state"):
                # Dock sizes only take once the window has its real size.
                QTimer.singleShot(0, self._size_docks)
            # Should no paint come (a window started minimised), start anyway.
            QTimer.singleShot(1500, self._on_first_paint)

    def paintEvent(self, event: Any) -> None:  # Qt override
        super().paintEvent(event)
        if not self._painted:
            # After this paint has reached the screen, not during it.
            QTimer.singleShot(0, self._on_first_paint)

    def _on_first_paint(self) -> None:
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def has_painted(self) -> bool:
        """True once the window has been drawn (or its start-up work has begun anyway)."""
        return self._painted

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt override
        paths = local_paths(event.mimeData().urls()) if event.mimeData().hasUrls() else []
        if any(p.is_dir() or p.suffix.lower() == MODEL_SUFFIX for p in paths):
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

    # -- closing -----------------------------------------------------------------------------
    def confirm_stop_training(self) -> bool:
        """Ask whether to stop the running training (saving the model) and close."""
        box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                          "Training is still running. Stop it, save the model and quit?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.button(QMessageBox.StandardButton.Yes).setText("Stop and save")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        result = box.exec()
        return getattr(result, "value", result) == QMessageBox.StandardButton.Yes.value

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        if self._closing:
            event.accept()
            return
        if self.training_panel.is_training():
            if not self.confirm_stop_training():
                event.ignore()
                return
            self.show_status("Stopping the training and saving the model…")
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.training_panel.stop_training(STOP_TRAINING_WAIT_MS)
            finally:
                QApplication.restoreOverrideCursor()
        self._closing = True
        self.save_settings()
        self.dataset_panel.shutdown()
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.wait_for_jobs(CLOSE_WAIT_MS)
        finally:
            QApplication.restoreOverrideCursor()
        event.accept()
        super().closeEvent(event)

    def wait_for_jobs(self, timeout_ms: int = EXIT_WAIT_MS) -> bool:
        """Ask every job to stop and wait (bounded); True when none is left.

        Results of finished jobs are delivered in between, since a handler may start a
        follow-up job; that one is stopped and waited for too.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        for _ in range(5):
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            self.pool.stop_all(remaining)
            QCoreApplication.sendPostedEvents()
            if not self.pool.running():
                return True
            if remaining == 0:
                break
        return not self.pool.running()
