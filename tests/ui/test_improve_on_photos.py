"""Improve on these photos: the window fine-tunes a denoiser on a folder, then uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtWidgets import QMessageBox

from aestudio.core.io.write import write_image
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import load_model_file, save_model_file
from aestudio.ui.main_window import MainWindow
from aestudio.ui.window import model_files


def _photos(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        write_image(folder / f"scan{i}.png", np.clip(rng.normal(120, 25, (128, 128, 3)), 0, 255)
                    .astype(np.uint8))
    return folder


def test_improving_fine_tunes_the_denoiser_and_hands_it_to_the_views(qtbot, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(model_files, "IMPROVE_MINUTES", 0.03)
    torch.manual_seed(0)
    start = save_model_file(tmp_path / "start.aemodel",
                            create_model("denoiser", channels=3, width=8, depth=2, planes=True),
                            train={"task": "denoise", "noise": "gaussian:25"})
    folder = _photos(tmp_path / "scans")
    window = MainWindow()
    window.show()
    qtbot.waitExposed(window)
    try:
        window.training_panel.set_output_path(str(tmp_path / "improved.aemodel"))
        finished: list[tuple[str, str]] = []
        window.training_panel.training_finished.connect(
            lambda reason, path: finished.append((reason, path)))
        window.improve_on_photos(str(folder), str(start))
        qtbot.waitUntil(lambda: bool(finished), timeout=120_000)
        reason, path = finished[0]
        assert reason in ("time-budget", "completed"), window.training_panel.status_label.text()
        assert Path(path).is_file()
        assert window.tabs.currentWidget() is window.training_tab
        tuned = load_model_file(path)
        assert tuned.model.config.width == 8 and tuned.model.config.planes  # the file's
        assert tuned.meta["train"]["task"] == "self-supervised"
        qtbot.waitUntil(lambda: window.compare_view.model_path == path, timeout=30_000)
        qtbot.waitUntil(lambda: window.batch_panel.model_path == path, timeout=30_000)
    finally:
        qtbot.waitUntil(window.training_panel.environment_ready, timeout=90_000)
        for box in window.findChildren(QMessageBox):
            box.close()
        window.close()
        assert window.wait_for_jobs()
        window.deleteLater()
