"""The studio window: menus, docks, folders, drag and drop, models, settings, closing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMessageBox

from aestudio.core.io.write import write_image
from aestudio.ui.common.settings import app_settings
from aestudio.ui.main_window import MainWindow


def make_folder(root: Path, n: int = 6, size: int = 8) -> Path:
    rng = np.random.default_rng(1)
    for label in ("x", "y"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n // 2):
            write_image(root / label / f"{i}.png",
                        rng.integers(0, 255, (size, size, 1), dtype=np.uint8))
    (root / "x" / "bad.png").write_bytes(b"nope")
    return root


def close_window(qtbot, win: MainWindow) -> None:
    """Close the way a person would once the window is up, and wait for its jobs.

    The training panel loads the engine shortly after it is first shown; waiting for that
    keeps a job from starting after the window closed. torch being imported cannot be
    interrupted, so on a busy machine the app's last wait is needed too.
    """
    qtbot.waitUntil(win.training_panel.environment_ready, timeout=90_000)
    win.close()
    assert win.wait_for_jobs()
    win.deleteLater()


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    win.show()
    qtbot.waitExposed(win)
    yield win
    close_window(qtbot, win)


def open_and_wait(qtbot, window: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(window.folder_opened, timeout=10_000):
        window.open_folder(folder)


def action_texts(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_window_builds_with_menus_docks_and_tabs(qtbot, window):
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Help"]
    shortcuts = {a.text(): a.shortcut().toString() for a in window.file_menu.actions()}
    assert shortcuts["&Open folder…"] == "Ctrl+O"
    assert shortcuts["Open &model…"] == "Ctrl+M"
    assert shortcuts["&Save model as…"] == "Ctrl+S"
    assert shortcuts["&Quit"] == "Ctrl+Q"
    assert "Recent &folders" in action_texts(window.file_menu)
    assert not window.save_model_action.isEnabled()  # nothing to save yet

    view = action_texts(window.view_menu)
    assert {"Dataset panel", "Training panel", "&Reset layout"} <= set(view)
    assert action_texts(window.help_menu) == ["&About aestudio"]
    assert [a.text() for a in window.toolbar.actions() if not a.isSeparator()][:3] == [
        "&Open folder…", "Open &model…", "&Save model as…"]

    assert window.tabs.tabText(0) == "Training"
    assert window.tabs.widget(0) is window.training_panel.monitor_widget()
    assert window.dockWidgetArea(window.dataset_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.training_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.device_label.text().startswith("Device:")

    # Later panels plug in.
    index = window.add_central_tab(QLabel("map"), "Latent map")
    assert window.tabs.tabText(index) == "Latent map"
    dock = window.add_dock(QLabel("compare"), "Compare", Qt.DockWidgetArea.BottomDockWidgetArea)
    assert isinstance(dock, QDockWidget) and dock.objectName() == "CompareDock"
    assert "Compare panel" in action_texts(window.view_menu)
    qtbot.waitUntil(dock.isVisible)
    dock.toggleViewAction().trigger()
    assert dock.isHidden()
    window.reset_layout()
    assert dock.isVisible() and window.dataset_dock.isVisible()


def test_about_dialog_names_version_and_credits(window, modal_dialogs):
    from aestudio import __version__
    from aestudio.ui.about import AboutDialog

    window.about_action.trigger()
    assert modal_dialogs.dialogs == ["AboutDialog"]
    text = AboutDialog(window).credits.toPlainText()
    assert "MNIST" in text and "CC BY-SA 3.0" in text and "CC0" in text
    assert "public domain" in text
    assert __version__ in AboutDialog.__init__.__globals__["__version__"]


def test_open_folder_fills_panels_and_is_remembered(qtbot, window, tmp_path):
    folder = make_folder(tmp_path / "digits")
    open_and_wait(qtbot, window, folder)
    assert window.dataset_panel.model.rowCount() == 6
    assert window.dataset_panel.skipped_badge.text() == "1"
    assert window.windowTitle().startswith("digits")
    assert window.training_panel.folder_label.text() == "digits"
    assert window.recent_folders()[0] == str(folder)

    second = make_folder(tmp_path / "other")
    open_and_wait(qtbot, window, second)
    assert window.recent_folders()[:2] == [str(second), str(folder)]
    window._fill_recent_menu()
    assert action_texts(window.recent_menu)[:2] == [str(second), str(folder)]
    # Persisted: a fresh settings object (as after a restart) reads them back.
    assert app_settings().value("recent/folders")[:2] == [str(second), str(folder)]


def test_geometry_and_layout_are_remembered(qtbot, tmp_path):
    first = MainWindow()
    first.show()
    qtbot.waitExposed(first)
    first.resize(700, 500)
    first.dataset_dock.close()  # its close button: the person's choice, kept on every tab
    close_window(qtbot, first)
    assert app_settings().value("window/geometry")

    second = MainWindow()
    second.show()
    qtbot.waitExposed(second)
    try:
        assert (second.width(), second.height()) == (700, 500)
        assert second.dataset_dock.isHidden()
        second.tabs.setCurrentIndex(0)
        assert second.dataset_dock.isHidden()
        second.dataset_dock.toggleViewAction().trigger()
        assert not second.dataset_dock.isHidden()
    finally:
        close_window(qtbot, second)


def drop_event(window: MainWindow, path: Path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    # QDragEnterEvent takes a QPoint (QPointF only from PySide6 6.12); QDropEvent a QPointF.
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    return enter, drop, mime


def test_dropping_a_folder_opens_it(qtbot, window, tmp_path):
    folder = make_folder(tmp_path / "dropped")
    enter, drop, _mime = drop_event(window, folder)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.folder_opened, timeout=10_000) as blocker:
        window.dropEvent(drop)
    assert blocker.args == [str(folder)]

    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    enter, _drop, _mime = drop_event(window, text_file)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_bad_model_file_gives_one_line_error_and_app_keeps_running(
        qtbot, window, tmp_path, modal_dialogs):
    bad = tmp_path / "broken.aemodel"
    bad.write_bytes(b"this is not a safetensors file at all")
    window.open_model(bad)
    qtbot.waitUntil(lambda: bool(modal_dialogs.boxes), timeout=15_000)
    title, text, details = modal_dialogs.boxes[0]
    assert title == "Cannot open the model"
    assert "broken.aemodel is not an aestudio model file" in text
    assert "\n" not in text and "Traceback" not in details
    assert not window.save_model_action.isEnabled()
    # Still alive and working.
    open_and_wait(qtbot, window, make_folder(tmp_path / "after"))


def tiny_model_file(path: Path) -> Path:
    from aestudio.core.models import create_model
    from aestudio.core.models.modelfile import save_model_file

    model = create_model("mlp-ae", image_size=8, latent_dim=2, hidden=(8,))
    return save_model_file(path, model, data={"size": 8, "channels": 1})


def test_open_model_then_save_a_copy(qtbot, window, tmp_path, modal_dialogs):
    source = tiny_model_file(tmp_path / "tiny.aemodel")
    window.open_model(source)
    qtbot.waitUntil(window.save_model_action.isEnabled, timeout=15_000)
    assert modal_dialogs.boxes == []
    assert window.current_model_path() == str(source)

    target = tmp_path / "copies" / "saved"
    window.save_model_as(target)
    saved = target.with_name("saved.aemodel")
    qtbot.waitUntil(saved.exists, timeout=5000)
    assert saved.read_bytes() == source.read_bytes()
    assert list(saved.parent.iterdir()) == [saved]  # no temporary file is left behind


def test_saving_a_copy_on_a_read_only_disk_is_one_line(qtbot, window, tmp_path, modal_dialogs,
                                                      monkeypatch):
    import errno
    import os

    from aestudio.ui.window import model_files

    def read_only(source, target):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(target))

    monkeypatch.setattr(model_files, "atomic_copy", read_only)
    source = tiny_model_file(tmp_path / "tiny.aemodel")
    window.open_model(source)
    qtbot.waitUntil(window.save_model_action.isEnabled, timeout=15_000)
    window.save_model_as(tmp_path / "locked" / "copy.aemodel")
    qtbot.waitUntil(lambda: bool(modal_dialogs.boxes), timeout=5000)
    title, text, _details = modal_dialogs.boxes[0]
    assert title == "Cannot save the model"
    assert "read-only" in text and "\n" not in text


def test_closing_during_training_asks_then_stops_and_saves(qtbot, window, tmp_path,
                                                          modal_dialogs):
    open_and_wait(qtbot, window, make_folder(tmp_path / "train", n=32))
    panel = window.training_panel
    finished: list[tuple[str, str]] = []
    panel.training_finished.connect(lambda reason, path: finished.append((reason, path)))
    with qtbot.waitSignal(panel.running_changed, timeout=90_000,
                          check_params_cb=lambda running: running):
        panel.start({"epochs": 10_000})
    qtbot.waitUntil(lambda: "Training" in window.job_label.text(), timeout=5000)
    # After the first steps (before them a stop has nothing to save).
    qtbot.waitUntil(lambda: len(panel.loss_plot.train) > 0, timeout=60_000)

    modal_dialogs.answer = QMessageBox.StandardButton.Cancel
    window.close()
    assert window.isVisible() and panel.is_training()
    assert modal_dialogs.boxes[-1][0] == "Training is running"

    modal_dialogs.answer = QMessageBox.StandardButton.Yes
    window.close()
    assert not window.isVisible()
    assert len(modal_dialogs.boxes) == 2
    qtbot.waitUntil(lambda: bool(finished), timeout=15_000)
    reason, path = finished[0]
    assert reason == "stopped" and Path(path).is_file()
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=5000)
    assert window.pool.running() == []


def test_window_is_built_without_importing_torch():
    """The window must be on screen before torch loads (it loads in the background)."""
    code = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from aestudio.ui.app import make_application
        app = make_application()
        from aestudio.ui.main_window import MainWindow
        window = MainWindow()
        print("torch" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_docks_follow_the_tab_and_focus_hides_them_all(qtbot, window):
    tabs = {window.tabs.tabText(i): i for i in range(window.tabs.count())}
    window.tabs.setCurrentIndex(tabs["Denoise"])
    qtbot.waitUntil(lambda: not window.dataset_dock.isVisible())
    assert not window.training_dock.isVisible()
    window.tabs.setCurrentIndex(tabs["Latent map"])
    qtbot.waitUntil(window.dataset_dock.isVisible)
    assert not window.training_dock.isVisible()  # the map gets the width
    window.tabs.setCurrentIndex(tabs["Training"])
    qtbot.waitUntil(window.training_dock.isVisible)
    assert window.focus_action.shortcut().toString() == "F11"
    window.focus_action.trigger()
    qtbot.waitUntil(lambda: not window.toolbar.isVisible())
    assert not any(d.isVisible() for d in window.docks())
    window.tabs.setCurrentIndex(tabs["Latent map"])  # still focused: nothing comes back
    assert not window.dataset_dock.isVisible()
    window.focus_action.trigger()
    qtbot.waitUntil(window.toolbar.isVisible)
    assert window.dataset_dock.isVisible() and not window.training_dock.isVisible()


def test_panels_fit_a_laptop_screen_with_the_docks_open(window):
    # 1366x768 less a taskbar and the window's frame, menu, toolbar and status bar.
    width, height = 1366, 768 - 48 - 30 - 40 - 40 - 24
    docks = (window.dataset_panel.minimumSizeHint().width()
             + window.training_panel.minimumSizeHint().width())
    for index in range(window.tabs.count()):
        central = window.tabs.widget(index).minimumSizeHint()
        assert docks + central.width() <= width, window.tabs.tabText(index)
        assert central.height() <= height, window.tabs.tabText(index)
    for panel in (window.dataset_panel, window.training_panel):
        assert panel.minimumSizeHint().height() <= height, type(panel).__name__


def test_another_folder_clears_the_last_models_curves_and_resume(qtbot, window, tmp_path):
    panel = window.training_panel
    open_and_wait(qtbot, window, make_folder(tmp_path / "first"))
    panel.loss_plot.add_train(1, 0.5)
    panel._model_path = str(tmp_path / "old.aemodel")  # noqa: SLF001 (as after a run)
    panel.settings.output.show_resume_target(panel._model_path)  # noqa: SLF001
    open_and_wait(qtbot, window, make_folder(tmp_path / "second"))
    assert panel._model_path is None  # noqa: SLF001
    assert panel.settings.output.resume_label.text() == "Resume: no model file yet"
    assert not window.statusBar().currentMessage().startswith("Scanning")


def test_file_menu_opens_the_bundled_denoiser_in_the_denoising_tabs(qtbot, window):
    from aestudio.core.models.bundled import bundled_models

    if not bundled_models():
        pytest.skip("no bundled model in this tree")
    assert window.bundled_model_action in window.file_menu.actions()
    window.compare_view.offer_bundled_model = False  # only the menu opens it here
    window.bundled_model_action.trigger()
    path = str(bundled_models()[0].path)
    qtbot.waitUntil(lambda: window.compare_view.model_path == path, timeout=60_000)
    qtbot.waitUntil(lambda: window.batch_panel.model_path == path, timeout=60_000)
