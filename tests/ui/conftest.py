"""Shared set-up of the Qt tests: offscreen, isolated settings, no thread left behind.

- ``QT_QPA_PLATFORM=offscreen`` is set before Qt is imported.
- Every test gets its own settings file, models folder and decoded-image cache in tmp_path.
- Modal message boxes and dialogs never block: ``exec()`` is recorded by the
  ``modal_dialogs`` fixture and answered with its ``answer`` (Cancel by default).
- A test fails when it leaves a QThread running (the idea of napari's
  ``_dangling_qthreads``): every started QThread is recorded, and once the test and its
  fixtures are torn down, any still running is stopped and reported.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import contextlib  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, QThread  # noqa: E402
from PySide6.QtWidgets import QDialog, QMessageBox  # noqa: E402

from aestudio.ui.common.workers import Worker, WorkerPool  # noqa: E402

THREAD_STOP_WAIT_MS = 5000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs the real app end to end (tens of seconds)")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Settings, model files and the decoded-image cache go into this test's tmp_path."""
    folder = tmp_path / "settings"
    monkeypatch.setenv("AESTUDIO_SETTINGS_DIR", str(folder))
    monkeypatch.setenv("AESTUDIO_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("AESTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    # Code that builds QSettings() itself lands in the same folder.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    return folder


@dataclass
class ModalDialogs:
    """What modal dialogs a test opened; ``answer`` is what ``exec()`` returns."""

    answer: Any = QMessageBox.StandardButton.Cancel
    boxes: list[tuple[str, str, str]] = field(default_factory=list)  # title, text, details
    dialogs: list[str] = field(default_factory=list)  # class names of other dialogs

    @property
    def texts(self) -> list[str]:
        return [text for _, text, _ in self.boxes]


@pytest.fixture(autouse=True)
def modal_dialogs(monkeypatch) -> ModalDialogs:
    """Record ``QMessageBox.exec`` / ``QDialog.exec`` instead of blocking the test."""
    record = ModalDialogs()

    def box_exec(box: QMessageBox) -> Any:
        record.boxes.append((box.windowTitle(), box.text(), box.detailedText()))
        return record.answer

    def dialog_exec(dialog: QDialog) -> int:
        record.dialogs.append(type(dialog).__name__)
        return QDialog.DialogCode.Rejected.value

    monkeypatch.setattr(QMessageBox, "exec", box_exec)
    monkeypatch.setattr(QDialog, "exec", dialog_exec)
    return record


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch, request):
    """Fail the test if a QThread it started is still running after its teardown."""
    started: list[tuple[QThread, str]] = []  # strong references: never destroyed mid-run
    workers: list[Worker] = []
    base_start = QThread.start
    base_pool_start = WorkerPool.start

    def start(self: QThread, *args: Any) -> None:
        started.append((self, _calling_place()))
        base_start(self, *args)

    def pool_start(self: WorkerPool, worker: Worker) -> QThread:
        workers.append(worker)
        return base_pool_start(self, worker)

    monkeypatch.setattr(QThread, "start", start)
    monkeypatch.setattr(WorkerPool, "start", pool_start)
    yield
    dangling = [(thread, place) for thread, place in started if _running(thread)]
    if dangling:
        for worker in workers:
            with contextlib.suppress(RuntimeError):
                worker.request_stop()
        for thread, _ in dangling:
            with contextlib.suppress(RuntimeError):
                thread.quit()
                thread.wait(THREAD_STOP_WAIT_MS)
    started.clear()
    workers.clear()
    if dangling:
        names = "\n".join(f"  {_name(thread)} started at {place}" for thread, place in dangling)
        pytest.fail("a QThread was left running after the test; stop it (WorkerPool.stop_all, "
                    f"or close the window) before the test ends:\n{names}", pytrace=False)


def _running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # deleted after it finished
        return False


def _name(thread: QThread) -> str:
    try:
        return thread.objectName() or "QThread"
    except RuntimeError:
        return "QThread"


def _calling_place() -> str:
    """The first frame outside Qt glue and this file: who started the thread."""
    frame = sys._getframe(2)
    here = os.path.abspath(__file__)
    while frame is not None:
        name = frame.f_code.co_filename
        if os.path.abspath(name) != here and "workers.py" not in name:
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


@pytest.fixture
def pool(qtbot):
    """A WorkerPool whose jobs are stopped (bounded wait) when the test ends."""
    workers = WorkerPool()
    yield workers
    workers.stop_all(THREAD_STOP_WAIT_MS)
    qtbot.wait(10)  # let the finished threads' deleteLater run
