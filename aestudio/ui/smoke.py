"""``aestudio smoke --out DIR [--size WxH]``: the real window, end to end, offscreen, in well under a minute.

Opens the main window, loads the bundled demo digits, trains a model briefly through the real
training panel and worker, waits for it, then shows each panel and central tab in turn and
saves a PNG of the window for each into ``DIR``. Settings, model files and caches go into a
temporary folder, so a person's own settings are never touched. Exits 0 when every step
worked; otherwise prints what failed and exits 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TIME_LIMIT_S = 90.0
HARD_LIMIT_GRACE_S = 20.0  # after the limit, a stuck run is ended from a watchdog thread
TRAIN_OVERRIDES = {"epochs": 1, "max_minutes": 0.25}  # one epoch, at most 15 s
DEFAULT_SIZE = (1440, 900)
_ENV_FOLDERS = ("AESTUDIO_SETTINGS_DIR", "AESTUDIO_MODELS_DIR", "AESTUDIO_CACHE_DIR")


class SmokeFailure(RuntimeError):
    """A step of the smoke run failed or timed out; the message says which."""


@contextmanager
def _private_folders() -> Iterator[Path]:
    """Point settings, model files and caches at a temporary folder (restored after)."""
    saved = {name: os.environ.get(name) for name in _ENV_FOLDERS}
    with tempfile.TemporaryDirectory(prefix="aestudio-smoke-") as tmp:
        for name in _ENV_FOLDERS:
            os.environ[name] = str(Path(tmp) / name.split("_")[1].lower())
        try:
            yield Path(tmp)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextmanager
def _dialogs_recorded(errors: list[str]) -> Iterator[None]:
    """Modal message boxes are recorded instead of waiting for a click nobody makes."""
    from PySide6.QtWidgets import QMessageBox

    original = QMessageBox.exec

    def record(box: QMessageBox) -> int:
        errors.append(f"{box.windowTitle()}: {box.text()}")
        return QMessageBox.StandardButton.Ok.value

    QMessageBox.exec = record  # type: ignore[method-assign]
    try:
        yield
    finally:
        QMessageBox.exec = original  # type: ignore[method-assign]


def _watchdog(limit_s: float) -> threading.Timer:
    """End the process if the run is stuck beyond ``limit_s`` (the cap must hold)."""

    def give_up() -> None:
        print(f"smoke: FAILED: still running after {limit_s:.0f} s; giving up",
              file=sys.stderr, flush=True)
        os._exit(2)

    timer = threading.Timer(limit_s, give_up)
    timer.daemon = True
    timer.start()
    return timer


class _Clock:
    def __init__(self, limit_s: float) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + limit_s
        self.errors: list[str] = []  # error dialogs shown during the run
        self.verbose = True

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def wait(self, predicate: Callable[[], bool], what: str, limit_s: float | None = None) -> None:
        """Run the event loop until ``predicate()`` is true; fail after the deadline."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        deadline = self.deadline if limit_s is None else min(self.deadline,
                                                             time.monotonic() + limit_s)
        waited = False
        while not predicate():
            waited = True
            if self.errors:
                raise SmokeFailure(f"an error dialog appeared: {self.errors[0]}")
            if time.monotonic() > deadline:
                raise SmokeFailure(f"timed out after {self.elapsed():.0f} s waiting for {what}")
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)
        if waited and self.verbose:
            print(f"smoke: {self.elapsed():5.1f} s  {what}: done", file=sys.stderr, flush=True)

    def settle(self, seconds: float = 0.3) -> None:
        """Let the event loop run a moment (layouts, repaints, queued results)."""
        end = time.monotonic() + seconds
        verbose, self.verbose = self.verbose, False
        try:
            self.wait(lambda: time.monotonic() >= end, "the window to settle")
        finally:
            self.verbose = verbose


def _pump(seconds: float) -> None:
    """Run the event loop for ``seconds`` (no deadline: used while cleaning up)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.01)


def _slug(text: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in text.replace("&", ""))
    return "-".join(part for part in cleaned.split("-") if part) or "panel"


def _bad_files_folder(root: Path, digits: Path) -> Path:
    """A small copy of some demo digits plus files the scanner must skip, with reasons."""
    import shutil

    folder = root / "with-skipped-files"
    for label in ("3", "7"):
        (folder / label).mkdir(parents=True)
        for source in sorted((digits / label).glob("*.png"))[:12]:
            shutil.copy(source, folder / label / source.name)
    (folder / "3" / "truncated.png").write_bytes((digits / "3" / "000.png").read_bytes()[:40])
    (folder / "7" / "empty.jpg").write_bytes(b"")
    (folder / "7" / "notes.png").write_text("a text file with an image name")
    return folder


def _run(out_dir: Path, clock: _Clock, tmp: Path, size: tuple[int, int]) -> list[Path]:
    from aestudio.resources import demo_folder
    from aestudio.ui.about import AboutDialog
    from aestudio.ui.app import make_application
    from aestudio.ui.denoise.bundled_model import bundled_model_path
    from aestudio.ui.main_window import MainWindow

    app = make_application()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(widget, name: str) -> None:
        path = out_dir / f"{len(written) + 1:02d}-{name}.png"
        if not widget.grab().save(str(path), "PNG"):
            raise SmokeFailure(f"could not write {path}")
        written.append(path)

    window = MainWindow()
    try:
        window.resize(*size)
        window.show()
        clock.wait(window.has_painted, "the window's first paint")
        window.start_warm_up()

        loaded: list[str] = []
        window.folder_opened.connect(loaded.append)
        digits = demo_folder("digits")
        window.open_folder(digits)
        clock.wait(lambda: bool(loaded), "the demo digits to be scanned", 30)
        data = window.dataset_panel
        clock.wait(lambda: data.model.cached() >= min(20, data.model.rowCount()),
                   "the first thumbnails", 20)

        panel = window.training_panel
        clock.wait(panel.environment_ready, "the training engine to load", 60)
        finished: list[tuple[str, str]] = []
        panel.training_finished.connect(lambda reason, path: finished.append((reason, path)))
        panel.start(dict(TRAIN_OVERRIDES))
        clock.wait(lambda: bool(finished), "a short training run to finish", 60)
        reason, model_path = finished[0]
        if reason not in ("completed", "time-budget", "stopped") or not model_path:
            raise SmokeFailure(f"training ended with {reason!r} and no model file")
        if not Path(model_path).is_file():
            raise SmokeFailure(f"training reported {model_path} but wrote no file")
        clock.wait(lambda: not panel.is_training(), "the training worker to end", 15)
        clock.wait(lambda: window.device_name is not None, "the device name", 30)

        # The dataset panel with an image selected.
        data.grid.setCurrentIndex(data.model.index(0, 0))
        window.dataset_dock.raise_()
        clock.settle()
        save(window, "dataset")
        save(window.dataset_dock, "dataset-panel")

        # The training panel (right dock) after the run.
        window.training_dock.raise_()
        clock.settle()
        save(window.training_dock, "training-panel")

        # Every central tab in turn (the Training monitor first).
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            clock.settle()
            save(window, f"tab-{_slug(window.tabs.tabText(index))}")
        window.tabs.setCurrentIndex(0)

        # The Denoise tab on a fresh studio: a demo photo with camera noise added, denoised
        # by the bundled model (no model was opened).
        view = window.compare_view
        if bundled_model_path() is not None:
            window.tabs.setCurrentWidget(view)
            clock.wait(lambda: view.loaded is not None, "the bundled denoiser to load", 30)
            view.set_noise("camera:2", seed=0)
            view.open_image(str(demo_folder("photos") / "chelsea.png"))
            clock.wait(view.is_complete, "the bundled denoiser to denoise a photo", 30)
            clock.settle()
            save(window, "denoise-bundled")
            window.tabs.setCurrentIndex(0)

        # Skipped files, with their reasons.
        loaded.clear()
        window.open_folder(_bad_files_folder(tmp, digits))
        clock.wait(lambda: bool(loaded), "the folder with skipped files to be scanned", 20)
        skipped = len(data.skipped_model.items())
        if skipped != 3:
            raise SmokeFailure(f"expected 3 skipped files with reasons, found {skipped}")
        data.set_skipped_expanded(True)
        clock.settle()
        save(window, "skipped-files")

        about = AboutDialog(window)
        about.resize(560, 600)
        about.show()
        clock.settle()
        save(about, "about")
        about.close()
    finally:
        window.close()
        _pump(0.1)
        # Closing waits a bounded time; torch being imported cannot be interrupted, so
        # give it longer rather than destroy a running thread.
        if window.pool.running() and not window.pool.stop_all(30_000):
            print("smoke: FAILED: background jobs did not stop after the window closed",
                  file=sys.stderr, flush=True)
            os._exit(1)
    del app
    return written


def run_smoke(out_dir: Path, time_limit_s: float = TIME_LIMIT_S,
              size: tuple[int, int] = DEFAULT_SIZE) -> int:
    """Run the app end to end offscreen and save a PNG per panel into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder for the PNGs (created).
    time_limit_s : float
        The whole run fails after this many seconds.
    size : tuple of int
        The window's width and height in pixels.

    Returns
    -------
    int
        0 when every step worked, 1 otherwise (the reason is printed).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    clock = _Clock(time_limit_s)
    watchdog = _watchdog(time_limit_s + HARD_LIMIT_GRACE_S)
    try:
        with _private_folders() as tmp, _dialogs_recorded(clock.errors):
            written = _run(Path(out_dir), clock, tmp, size)
    except SmokeFailure as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything else is a failure too, said plainly
        print(f"smoke: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        watchdog.cancel()
    if len(written) < 4:
        print(f"smoke: FAILED: only {len(written)} screenshots written", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"smoke: OK, {len(written)} screenshots in {clock.elapsed():.1f} s", file=sys.stderr)
    return 0
