"""The studio window: dockable panels around a central tab widget.

The Dataset panel docks on the left, the Training panel on the right, and the central tabs
hold the large views (the "Training" tab shows the loss curves and live samples). Later
panels plug in with :meth:`MainWindow.add_central_tab` and :meth:`MainWindow.add_dock`.

Nothing imported here imports torch: the window shows first, then
:meth:`MainWindow.start_warm_up` loads torch in a background job and names the compute
device in the status bar.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from aestudio.ui.common.errors import first_line, show_error
from aestudio.ui.common.icons import app_icon
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.settings import app_settings, recent_folders, remember_folder
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.window.actions import JOB_NAMES, MODEL_FILTER, WindowActions
from aestudio.ui.window.building import WindowBuilding
from aestudio.ui.window.drops import WindowDrops, local_paths
from aestudio.ui.window.focus import WindowFocus
from aestudio.ui.window.layout import WindowLayout
from aestudio.ui.window.model_files import WindowModelFiles

if TYPE_CHECKING:
    from aestudio.ui.dataset.panel import DatasetPanel
    from aestudio.ui.denoise.batch_panel import BatchDenoisePanel
    from aestudio.ui.denoise.compare_view import CompareView
    from aestudio.ui.latent.explorer import LatentExplorer
    from aestudio.ui.training.panel import TrainingPanel

__all__ = ["JOB_NAMES", "MODEL_FILTER", "MainWindow", "local_paths", "warm_up"]

CLOSE_WAIT_MS = 10_000  # bounded wait for background jobs when the window closes
EXIT_WAIT_MS = 30_000  # a last wait at exit (torch being imported cannot be interrupted)
STOP_TRAINING_WAIT_MS = 15_000
STATUS_MESSAGE_MS = 8_000


def warm_up(_worker: Worker | None = None) -> str:
    """Import torch and the device helpers; return the compute device in words."""
    from aestudio.core.training.environment import auto_device_name

    return auto_device_name()


def _slug(title: str) -> str:
    return "".join(ch for ch in title.title() if ch.isalnum()) or "Panel"


class MainWindow(WindowActions, WindowModelFiles, WindowDrops, WindowLayout, WindowFocus,
                 WindowBuilding, QMainWindow):
    """The aestudio main window.

    Parameters
    ----------
    pool : WorkerPool, optional
        Runs every background job of the window and its panels; a new one by default.
    deferred : bool
        Build only the frame now and the panels after its first paint, one per turn of the
        event loop (the app does this, to be on screen at once); :attr:`ready` tells when
        they are there. By default every panel is built before this returns.

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
        The window has been drawn once.
    ready()
        Every panel is built; start-up work may begin (see :meth:`when_ready`).
    """

    device_ready = Signal(str)  # the compute device in words, once torch is loaded
    folder_opened = Signal(str)  # a folder was scanned and is shown
    first_painted = Signal()  # the window has been drawn once
    ready = Signal()  # every panel is built: start-up work may begin

    # Built by WindowBuilding's stages (at once, or after the first paint when deferred).
    dataset_panel: DatasetPanel
    training_panel: TrainingPanel
    compare_view: CompareView
    batch_panel: BatchDenoisePanel
    latent_explorer: LatentExplorer

    def __init__(self, pool: WorkerPool | None = None, parent: QWidget | None = None, *,
                 deferred: bool = False) -> None:
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
        self._create_placeholders()
        self._create_focus_action()
        self._set_file_actions_enabled(False)

        self._default_geometry = self._initial_size()
        self.resize(self._default_geometry)
        self._default_state = self.saveState()
        self._restore_settings()
        self.apply_tab_docks()
        if deferred:
            self.first_painted.connect(self._build_between_paints)
        else:
            self._build_now()

    # -- building ----------------------------------------------------------------------------
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
        """Scan ``folder`` and show it in the Dataset panel (it becomes the training data).

        Before the panels are built, this waits for them.
        """
        if not self.is_ready():
            self.when_ready(lambda: self.open_folder(folder))
            return
        self.dataset_panel.open_folder(folder)

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

    @Slot(str)
    def show_status(self, text: str) -> None:
        """Show a short message in the status bar for a few seconds."""
        self.statusBar().showMessage(first_line(text), STATUS_MESSAGE_MS)

    # -- reactions ---------------------------------------------------------------------------
    def _on_folder_loaded(self, folder: str) -> None:
        remember_folder(folder)
        self._fill_recent_menu()
        self.show_status(f"Opened {Path(folder).name or folder}")  # not "Scanning…" any more
        self._refresh_jobs()
        self.setWindowTitle(f"{Path(folder).name} — aestudio")
        self.training_panel.set_folder(folder)
        self.latent_explorer.set_folder(folder)  # encodes once an autoencoder is open
        self.folder_opened.emit(folder)

    def _on_training_running(self, running: bool) -> None:
        self._update_actions()
        self._refresh_jobs()

    def _on_training_finished(self, reason: str, path: str) -> None:
        self.latent_explorer.end_training(reason)  # before the final model file takes over
        if path:
            self._model_path = path
            model = self.training_panel.current_model()
            self._share_model(path, "denoiser" if model == "denoiser" else "autoencoder",
                              chosen=False)
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

    # -- painting ----------------------------------------------------------------------------
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
        if not self.is_ready():  # closed while the panels load: nothing of theirs to keep
            self._closing = True
            self.save_settings()
            event.accept()
            super().closeEvent(event)
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
