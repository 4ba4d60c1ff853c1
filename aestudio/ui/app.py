"""Starting the app: the QApplication, its look, the main window, then torch in the background.

The window's frame is shown first; its panels are built one per event-loop turn after its
first paint, and torch loads in a worker once they are there (see
:meth:`~aestudio.ui.main_window.MainWindow.start_warm_up`). ``AESTUDIO_STARTUP_TIMING=1``
prints the seconds from process start to the window's first paint, to the panels being
ready, and to torch being ready.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from aestudio.ui.common.icons import app_icon
from aestudio.ui.common.settings import identify_application
from aestudio.ui.common.style import apply_style

TIMING_ENV = "AESTUDIO_STARTUP_TIMING"
_IMPORTED_AT = time.monotonic()


def process_age_s() -> float:
    """Seconds since this process started.

    Read from ``/proc`` on Linux; elsewhere counted from when this module was imported
    (which misses the interpreter's own start-up).
    """
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 (starttime), counted after "pid (comm)"
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED_AT


class FirstPaintTimer(QObject):
    """Prints the process age at the first paint of a widget, once."""

    def __init__(self, widget: QObject, label: str = "first paint of the window") -> None:
        super().__init__(widget)
        self.label = label
        self.seconds: float | None = None
        self.torch_loaded_at_paint: bool | None = None
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt override
        if event.type() == QEvent.Type.Paint and self.seconds is None:
            self.seconds = process_age_s()
            torch = sys.modules.get("torch")
            self.torch_loaded_at_paint = torch is not None
            if torch is None:
                state = "not imported yet"
            elif getattr(getattr(torch, "__spec__", None), "_initializing", False):
                state = "being imported in the background"
            else:
                state = "already imported"
            print(f"startup: {self.label} after {self.seconds:.3f} s (torch {state})",
                  file=sys.stderr, flush=True)
            watched.removeEventFilter(self)
        return False


def make_application() -> QApplication:
    """The QApplication with aestudio's names (for QSettings), icon and style."""
    identify_application()
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("aestudio")
    app.setDesktopFileName("io.github.aestudio.Aestudio")
    app.setWindowIcon(app_icon())
    apply_style(app)
    return app


def run_app(folder: str | None = None, model: str | None = None) -> int:
    """Open the studio window and run until it closes.

    Parameters
    ----------
    folder : str, optional
        Image folder to open; the bundled demo digits when None.
    model : str, optional
        Model file to open (to continue training it).

    Returns
    -------
    int
        The exit status.
    """
    app = make_application()
    from aestudio.ui.main_window import MainWindow

    window = MainWindow(deferred=True)  # the frame now, the panels once it is on screen
    timing = os.environ.get(TIMING_ENV, "") not in ("", "0")
    if timing:
        FirstPaintTimer(window)
        window.ready.connect(lambda: print(
            f"startup: panels ready after {process_age_s():.3f} s", file=sys.stderr, flush=True))
        window.device_ready.connect(lambda name: print(
            f"startup: torch ready ({name}) after {process_age_s():.3f} s",
            file=sys.stderr, flush=True))

    def start_work() -> None:
        # Heavy work waits until the window is on screen.
        window.start_warm_up()
        if folder:
            window.open_folder(Path(folder).expanduser())
        else:
            from aestudio.resources import demo_folder

            window.open_folder(demo_folder("digits"))
        if model:
            window.open_model(model)

    window.ready.connect(start_work)
    window.show()
    status = app.exec()
    if not window.wait_for_jobs():
        # Destroying a running QThread aborts the process; leave without tearing down.
        names = ", ".join(worker.name for worker in window.pool.running())
        print(f"aestudio: background work did not stop in time ({names}); exiting",
              file=sys.stderr, flush=True)
        os._exit(status)
    return status
