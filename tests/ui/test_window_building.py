"""The staged start-up: the frame first, the panels after its first paint."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from aestudio.ui.main_window import MainWindow
from aestudio.ui.window.building import TAB_TITLES
from tests.ui.test_main_window import close_window, make_folder


def tab_titles(window: MainWindow) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


def test_deferred_window_shows_the_frame_then_builds_every_panel(qtbot):
    window = MainWindow(deferred=True)
    qtbot.addWidget(window)
    # Before the first paint: the tabs and docks are there, each with a loading page.
    assert not window.is_ready()
    assert tab_titles(window) == list(TAB_TITLES)
    pages = [window.tabs.widget(i) for i in range(window.tabs.count())]
    assert all(isinstance(page, QLabel) and page.text().startswith("Loading") for page in pages)
    assert isinstance(window.dataset_dock.widget(), QLabel)
    assert not hasattr(window, "dataset_panel")
    assert not window.open_folder_action.isEnabled()
    assert not window.recent_menu.isEnabled()
    assert window.open_folder_action.icon().pixmap(20, 20).toImage().pixelColor(10, 10).alpha() == 0

    with qtbot.waitSignal(window.ready, timeout=30_000):
        window.show()
    assert window.is_ready()
    assert tab_titles(window) == list(TAB_TITLES)  # same tabs, same order, now real views
    assert window.tabs.widget(0) is window.training_tab
    assert window.tabs.widget(1) is window.compare_view
    assert window.tabs.widget(2) is window.batch_panel
    assert window.tabs.widget(3) is window.latent_explorer
    assert window.dataset_dock.widget() is window.dataset_panel
    assert window.training_dock.widget() is window.training_panel
    assert window.open_folder_action.isEnabled()
    assert window.recent_menu.isEnabled()
    assert not window.open_folder_action.icon().isNull()
    close_window(qtbot, window)


def test_a_folder_opened_before_the_panels_are_built_opens_once_they_are(qtbot, tmp_path: Path):
    folder = make_folder(tmp_path / "data")
    window = MainWindow(deferred=True)
    qtbot.addWidget(window)
    window.open_folder(folder)  # queued: nothing to show it in yet
    assert not window.is_ready()
    with qtbot.waitSignal(window.folder_opened, timeout=30_000):
        window.show()
    assert window.is_ready()
    assert Path(window.dataset_panel.folder()) == folder
    close_window(qtbot, window)


def test_closing_before_the_panels_are_built_stops_the_build(qtbot):
    window = MainWindow(deferred=True)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.first_painted, timeout=10_000):
        window.show()
    window.close()  # the first stage is queued, not yet run
    qtbot.wait(300)  # the stages would run here, one per turn of the event loop
    assert not window.is_ready()
    assert not hasattr(window, "dataset_panel")
    assert window.wait_for_jobs()
