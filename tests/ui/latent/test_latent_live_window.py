"""The whole window: a 2-D autoencoder trains and the Latent map tab follows it live."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from aestudio.core.models import (
    create_model,  # noqa: E402
    inference,  # noqa: E402
)
from aestudio.core.models.modelfile import load_model_file  # noqa: E402
from aestudio.core.training.messages import LiveSnapshot  # noqa: E402
from aestudio.ui.main_window import MainWindow  # noqa: E402
from tests.conftest import make_digit_folder  # noqa: E402

TIMEOUT_MS = 60_000


def snapshot_model(snapshot: LiveSnapshot) -> torch.nn.Module:
    model = create_model(snapshot.model, **snapshot.options)
    model.load_state_dict(snapshot.state)
    return model.eval()


def float_images(explorer) -> torch.Tensor:
    data = explorer.data
    return torch.from_numpy(np.asarray(data.images, np.float32) / data.scale)


def wheel_zoom_in(view) -> None:
    """A real wheel turn over the middle of the map."""
    viewport = view.plot.viewport()
    pos = QPointF(viewport.width() / 2, viewport.height() / 2)
    event = QWheelEvent(pos, viewport.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def test_the_map_follows_training_and_the_final_model_takes_over(qtbot, tmp_path: Path):
    folder = make_digit_folder(tmp_path / "digits", per_label=20, size=28, labels=3)
    win = MainWindow()
    win.show()
    qtbot.waitExposed(win)
    try:
        with qtbot.waitSignal(win.folder_opened, timeout=10_000):
            win.open_folder(folder)
        panel, explorer = win.training_panel, win.latent_explorer
        qtbot.waitUntil(panel.environment_ready, timeout=90_000)
        panel.set_model("conv-ae")
        panel.model_form.set_values({"latent_dim": 2, "width": 4, "depth": 1, "hidden": 16})
        panel.size_spin.setValue(28)
        panel.batch_spin.setValue(8)
        panel.device_combo.setCurrentIndex(panel.device_combo.findData("cpu"))
        win.tabs.setCurrentWidget(explorer)
        snaps: dict[int, LiveSnapshot] = {}
        panel.training_snapshot.connect(lambda s: snaps.__setitem__(s.step, s))
        finished: list[tuple[str, str]] = []
        panel.training_finished.connect(lambda reason, path: finished.append((reason, path)))

        panel.start({"epochs": 10_000})
        qtbot.waitUntil(lambda: explorer.live_step() is not None, timeout=TIMEOUT_MS)
        assert "live: step" in explorer.summary.text()
        assert explorer.latent_map.layout == "codes"

        # Paused, the last snapshot is drawn: the points are its codes, a click its decode.
        panel.toggle_pause()
        qtbot.waitUntil(panel.is_paused, timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: explorer.live_step() == max(snaps) and not explorer.is_busy(),
                        timeout=TIMEOUT_MS)
        model = snapshot_model(snaps[explorer.live_step()])
        np.testing.assert_allclose(explorer.latent_map.positions,
                                   inference.encode(model, float_images(explorer)),
                                   rtol=1e-5, atol=1e-6)
        (x0, x1), (y0, y1) = explorer.map_view.visible_range()
        xy = (x0 + 0.3 * (x1 - x0), y0 + 0.7 * (y1 - y0))
        explorer.click_at(*xy)
        expected = inference.decode(model, np.array([xy], np.float32))[0]
        qtbot.waitUntil(lambda: explorer.decoded_image() is not None
                        and np.allclose(explorer.decoded_image(), expected, atol=1e-6),
                        timeout=10_000)

        # The user zooms; the training goes on; refreshes keep the zoom.
        wheel_zoom_in(explorer.map_view)
        zoomed = explorer.map_view.visible_range()
        assert zoomed != ((x0, x1), (y0, y1))
        step = explorer.live_step()
        panel.toggle_pause()
        qtbot.waitUntil(lambda: (explorer.live_step() or 0) > step, timeout=TIMEOUT_MS)
        np.testing.assert_allclose(explorer.map_view.visible_range(), zoomed, rtol=1e-9)

        # Another tab in front: no refresh; back in front: the latest snapshot is drawn.
        win.tabs.setCurrentWidget(win.training_tab)
        hidden_step = explorer.live_step()
        qtbot.waitUntil(lambda: max(snaps) > hidden_step + 1, timeout=TIMEOUT_MS)
        qtbot.wait(300)
        assert explorer.live_step() == hidden_step
        win.tabs.setCurrentWidget(explorer)
        qtbot.waitUntil(lambda: (explorer.live_step() or 0) > hidden_step, timeout=TIMEOUT_MS)

        # Stopped: the saved model file takes the map over in place.
        panel.request_stop()
        qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
        reason, path = finished[0]
        assert reason == "stopped" and Path(path).is_file()
        final = load_model_file(path).model
        codes = inference.encode(final, float_images(explorer))
        qtbot.waitUntil(lambda: explorer.live_step() is None and not explorer.is_busy()
                        and np.allclose(explorer.latent_map.positions, codes, rtol=1e-5,
                                        atol=1e-6), timeout=TIMEOUT_MS)
        np.testing.assert_allclose(explorer.map_view.visible_range(), zoomed, rtol=1e-9)
        assert "live" not in explorer.summary.text()
        # A late snapshot of the finished run changes nothing.
        shown = explorer.latent_map
        explorer.show_training_snapshot(snaps[min(snaps)])
        qtbot.wait(1200)
        assert explorer.latent_map is shown
    finally:
        qtbot.waitUntil(win.training_panel.environment_ready, timeout=90_000)
        win.close()
        assert win.wait_for_jobs()
        win.deleteLater()
