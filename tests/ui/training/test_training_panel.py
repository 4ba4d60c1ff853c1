"""The training panel on real engine objects: runs, stops, pauses, failures, resuming."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox, QSplitter

from aestudio.core import events as ev
from aestudio.core.models import list_models
from aestudio.core.models.modelfile import load_model_file
from aestudio.ui.common.image_convert import array_to_qimage, array_to_qpixmap, to_uint8
from aestudio.ui.common.workers import WorkerPool
from aestudio.ui.training import panel as panel_module
from aestudio.ui.training.loss_plot import PointBuffer
from aestudio.ui.training.noise_controls import noise_parameters
from aestudio.ui.training.panel import (
    TrainingPanel,
    default_model_path,
    format_duration,
)
from aestudio.ui.training.sample_grid import SampleGrid

RUN_TIMEOUT_MS = 60_000


def make_folder(root: Path, per_label: int = 20, size: int = 16) -> Path:
    """Random gray PNGs in two label folders."""
    rng = np.random.default_rng(1)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_label):
            pixels = (rng.random((size, size)) * 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(root / label / f"{i:03d}.png")
    return root


@pytest.fixture
def isolated(tmp_path):
    """tests/ui/conftest.py points the models folder and the image cache into tmp_path."""
    return tmp_path


@pytest.fixture
def folder(isolated):
    return make_folder(isolated / "data")


@pytest.fixture
def panel(qtbot, pool, isolated):
    panel = TrainingPanel(pool)
    qtbot.addWidget(panel)
    qtbot.addWidget(panel.monitor_widget())
    yield panel
    if panel.is_training():
        panel.stop_training(10_000)
    if panel.error_dialog is not None:
        panel.error_dialog.done(0)


def make_tiny(panel: TrainingPanel, folder: Path | None, model: str = "mlp-ae") -> None:
    """Tiny options so that a run takes a second or two on a CPU."""
    panel.set_folder(str(folder) if folder else None)
    panel.set_model(model)
    if model == "denoiser":
        panel.model_form.set_values({"width": 8, "depth": 1})
    else:
        panel.model_form.set_values({"hidden": (16,), "latent_dim": 2})
    panel.size_spin.setValue(16)
    panel.batch_spin.setValue(8)
    panel.device_combo.setCurrentIndex(panel.device_combo.findData("cpu"))
    panel.advanced_train_form.set_values({"sample_seconds": 0.0})
    panel.advanced_data_form.set_values({"val_fraction": 0.2})


def wait_idle(qtbot, panel: TrainingPanel, pool: WorkerPool) -> None:
    qtbot.waitUntil(lambda: not pool.running() and not panel.is_training(),
                    timeout=RUN_TIMEOUT_MS)


def test_building_the_panel_does_not_import_torch(tmp_path):
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from aestudio.ui.training.panel import TrainingPanel\n"
        "from aestudio.ui.common.workers import WorkerPool\n"
        "panel = TrainingPanel(WorkerPool())\n"
        "panel.monitor_widget()\n"
        "panel.set_folder('.')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert not panel.environment_ready() and not panel.start_button.isEnabled()\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_engine_is_described_by_a_worker_and_a_start_waits_for_it(qtbot, pool, folder,
                                                                  monkeypatch):
    monkeypatch.setattr(panel_module, "engine_loaded", lambda: False)
    panel = TrainingPanel(pool)
    qtbot.addWidget(panel)
    assert not panel.environment_ready() and panel.model_names() == []
    panel.set_folder(str(folder))
    finished = []
    panel.training_finished.connect(lambda reason, path: finished.append((reason, path)))
    panel.start({"epochs": 1, "batch_size": 8, "device": "cpu"})  # before the engine is ready
    assert panel.is_training()
    qtbot.waitUntil(panel.environment_ready, timeout=RUN_TIMEOUT_MS)
    assert panel.model_names() == [e.name for e in list_models()]
    assert panel.current_model() == panel.model_names()[0] and panel.model_form is not None
    qtbot.waitUntil(lambda: bool(finished), timeout=RUN_TIMEOUT_MS)
    wait_idle(qtbot, panel, pool)
    assert finished[0][0] == "completed" and Path(finished[0][1]).is_file()


def test_a_run_draws_curves_shows_samples_and_writes_the_model(qtbot, panel, pool, folder,
                                                              isolated):
    make_tiny(panel, folder)
    assert panel.start_button.isEnabled()
    running, ready = [], []
    panel.running_changed.connect(running.append)
    panel.model_ready.connect(ready.append)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 3})
        assert panel.is_training() and not panel.start_button.isEnabled()
    wait_idle(qtbot, panel, pool)
    reason, path = blocker.args
    assert reason == "completed"
    assert Path(path).parent == isolated / "models" and path.endswith(".aemodel")
    assert Path(path).name.startswith("data-mlp-ae-")
    assert running == [True, False] and ready == [path]
    assert panel.current_model_path() == path
    assert len(panel.loss_plot.train) >= 1 and len(panel.loss_plot.val) == 3
    assert panel.sample_grid.row_labels() == ["input", "output"]
    assert panel.sample_grid.column_count() == 8
    assert panel.progress_bar.value() == panel.progress_bar.maximum()
    assert "PSNR" in panel.metrics_label.text()
    assert panel.start_button.isEnabled() and panel.resume_button.isEnabled()
    assert not panel.stop_button.isEnabled()
    loaded = load_model_file(path)
    assert loaded.name == "mlp-ae" and loaded.model.image_size == 16
    assert loaded.model.config.hidden == (16,)


def test_stop_mid_run_keeps_the_model(qtbot, panel, pool, folder):
    make_tiny(panel, folder)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 5000})
        qtbot.waitUntil(lambda: len(panel.loss_plot.train) > 0, timeout=RUN_TIMEOUT_MS)
        assert panel.stop_training(15_000)
    wait_idle(qtbot, panel, pool)
    reason, path = blocker.args
    assert reason == "stopped"
    assert load_model_file(path).name == "mlp-ae"
    assert "saved" in panel.status_label.text()


def test_pause_then_continue(qtbot, panel, pool, folder):
    make_tiny(panel, folder)
    panel.start({"epochs": 5000})
    qtbot.waitUntil(lambda: len(panel.loss_plot.train) > 0, timeout=RUN_TIMEOUT_MS)
    panel.pause_button.click()
    assert panel.pause_button.text() == "Continue"
    qtbot.waitUntil(lambda: "Paused at step" in panel.status_label.text(), timeout=10_000)
    points = len(panel.loss_plot.train)
    qtbot.wait(400)
    assert len(panel.loss_plot.train) == points  # no progress while paused
    panel.pause_button.click()
    assert panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(panel.loss_plot.train) > points, timeout=10_000)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.stop_button.click()
    wait_idle(qtbot, panel, pool)
    assert blocker.args[0] == "stopped"


def test_stop_while_paused(qtbot, panel, pool, folder):
    make_tiny(panel, folder)
    panel.start({"epochs": 5000})
    qtbot.waitUntil(lambda: len(panel.loss_plot.train) > 0, timeout=RUN_TIMEOUT_MS)
    panel.toggle_pause()
    qtbot.waitUntil(lambda: "Paused at step" in panel.status_label.text(), timeout=10_000)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert panel.stop_training(15_000)
    wait_idle(qtbot, panel, pool)
    assert blocker.args[0] == "stopped" and Path(blocker.args[1]).is_file()
    assert panel.pause_button.text() == "Pause" and not panel.pause_button.isEnabled()


def test_a_folder_without_images_shows_an_error_dialog(qtbot, panel, pool, isolated):
    empty = isolated / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images")
    make_tiny(panel, empty)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert blocker.args == ["failed", ""]
    dialog = panel.error_dialog
    assert isinstance(dialog, QMessageBox) and dialog.isVisible()
    assert "no images" in dialog.text() and "\n" not in dialog.text()
    assert dialog.detailedText() == ""  # an expected failure: one line, no traceback
    assert "Training failed" in panel.status_label.text()
    assert panel.start_button.isEnabled() and not panel.is_training()
    dialog.done(0)


def test_an_exception_inside_fit_shows_the_traceback_and_the_panel_recovers(
        qtbot, panel, pool, folder, monkeypatch):
    def broken_fit(*args, **kwargs):
        raise RuntimeError("the optimizer fell over\nsecond line")

    monkeypatch.setattr("aestudio.core.training.trainer.fit", broken_fit)
    make_tiny(panel, folder)
    panel.start({"epochs": 1})
    qtbot.waitUntil(lambda: panel.error_dialog is not None, timeout=RUN_TIMEOUT_MS)
    wait_idle(qtbot, panel, pool)
    assert panel.error_dialog.text().startswith("RuntimeError: the optimizer fell over. ")
    assert "broken_fit" in panel.error_dialog.detailedText()
    panel.error_dialog.done(0)
    monkeypatch.undo()
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert blocker.args[0] == "completed"


def test_divergence_shows_the_engine_message(qtbot, panel, pool, folder, monkeypatch):
    message = "the training loss became nan at step 3; try a lower learning rate."

    def diverging_fit(job, data, *, on_event, **kwargs):
        # The engine's own Finished event for a diverged run (the engine tests provoke it).
        on_event(ev.Finished("diverged", 3, None, message))

    monkeypatch.setattr("aestudio.core.training.trainer.fit", diverging_fit)
    make_tiny(panel, folder)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert blocker.args == ["diverged", ""]
    assert message in panel.error_dialog.text()
    assert message in panel.status_label.text()
    panel.error_dialog.done(0)


def test_an_opened_model_fills_the_form_and_resume_continues_it(qtbot, panel, pool, folder,
                                                               isolated):
    make_tiny(panel, folder)
    panel.model_form.set_values({"latent_dim": 3})
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 2})
    wait_idle(qtbot, panel, pool)
    path = blocker.args[1]
    first_points = len(panel.loss_plot.train)

    other = TrainingPanel(pool)
    qtbot.addWidget(other)
    other.set_folder(str(folder))
    with qtbot.waitSignal(other.model_ready, timeout=RUN_TIMEOUT_MS):
        other.set_model_file(path)
    assert other.current_model() == "mlp-ae"
    assert other.model_form.values()["latent_dim"] == 3
    assert other.model_form.values()["hidden"] == (16,)
    assert other.size_spin.value() == 16 and other.batch_spin.value() == 8
    assert other.epochs_spin.value() == 2
    assert other.current_model_path() == path
    assert len(other.loss_plot.train) == first_points
    assert other.resume_button.isEnabled()

    # Not raised: the model already has its 2 epochs, so nothing starts.
    other.resume()
    assert not other.is_training() and "raise" in other.status_label.text()

    other.epochs_spin.setValue(3)
    with qtbot.waitSignal(other.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        other.resume_button.click()
    wait_idle(qtbot, other, pool)
    assert blocker.args == ["completed", path]
    loaded = load_model_file(path)
    state = loaded.training_state
    assert state["step"] == 3 * state["steps_per_epoch"]
    assert len(other.loss_plot.val) == 3  # the file's 2 validations and the new one
    assert "from step" in other._monitor.status.text() or "Finished" in \
        other.status_label.text()


def test_set_model_file_with_a_bad_file_says_so(qtbot, panel, pool, isolated):
    bad = isolated / "bad.aemodel"
    bad.write_bytes(b"garbage")
    panel.set_model_file(str(bad))
    qtbot.waitUntil(lambda: "Cannot continue" in panel.status_label.text(), timeout=10_000)
    wait_idle(qtbot, panel, pool)
    assert panel.current_model_path() is None and not panel.resume_button.isEnabled()


def test_model_choice_rebuilds_its_form_and_picks_the_task(qtbot, panel):
    assert panel.current_model() == panel.model_names()[0] and panel.model_form is not None
    panel.set_model("conv-ae")
    assert "depth" in panel.model_form.field_names()
    assert "channels" not in panel.model_form.field_names()
    assert panel.task_combo.currentData() == "reconstruct"
    assert not panel.noise.combo.isEnabled()
    assert panel.size_label.text() == "Image size"
    tasks = panel.task_combo.model()
    self_supervised = tasks.item(panel.task_combo.findData("self-supervised"))
    assert not self_supervised.isEnabled()  # it needs the full-resolution denoiser
    panel.set_model("denoiser")
    assert panel.model_form.field_names()[:2] == ["arch", "width"]
    assert "channels" not in panel.model_form.field_names()
    assert panel.task_combo.currentData() == "denoise"
    assert panel.noise.combo.isEnabled()
    assert self_supervised.isEnabled()
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("self-supervised"))
    assert not panel.noise.combo.isEnabled()  # the images are the noisy data
    assert "noisy already" in panel.noise.description.text()
    panel.task_combo.setCurrentIndex(panel.task_combo.findData("denoise"))
    assert panel.size_label.text() == "Patch size" and panel.size_spin.value() == 64
    assert panel.noise_spec() == "gaussian:25"
    assert "patches_per_epoch" in panel.advanced_train_form.field_names()
    panel.noise.combo.setCurrentIndex(panel.noise.combo.findData("poisson-gaussian"))
    assert panel.noise_spec() == "poisson-gaussian:30,5"
    assert panel.noise.spins[1].isVisibleTo(panel)
    panel.noise.combo.setCurrentIndex(panel.noise.combo.findData("salt-pepper"))
    panel.noise.spins[0].setValue(0.1)
    assert panel.noise_spec() == "salt-pepper:0.1"
    assert "10% of pixels" in panel.noise.description.text()
    panel.set_model("mlp-ae")
    assert panel.task_combo.currentData() == "reconstruct"
    assert "patches_per_epoch" not in panel.advanced_train_form.field_names()
    assert panel.size_spin.maximum() == 256  # the model's own image size limit
    panel.set_model("conv-ae")
    assert panel.size_spin.maximum() == 512


def test_a_denoiser_run_shows_the_noisy_row(qtbot, panel, pool, folder):
    make_tiny(panel, folder, model="denoiser")
    panel.advanced_train_form.set_values({"patches_per_epoch": 16})
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 2})
    wait_idle(qtbot, panel, pool)
    assert blocker.args[0] == "completed"
    assert panel.sample_grid.row_labels() == ["clean", "noisy input", "output"]
    loaded = load_model_file(blocker.args[1])
    assert loaded.name == "denoiser" and loaded.meta["train"]["noise"] == "gaussian:25"

    panel.task_combo.setCurrentIndex(panel.task_combo.findData("self-supervised"))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert blocker.args[0] == "completed"
    assert panel.sample_grid.row_labels() == ["noisy input", "output"]


def test_devices_that_are_missing_cannot_be_chosen(panel):
    items = panel.device_combo.model()
    cuda = items.item(panel.device_combo.findData("cuda"))
    assert cuda.isEnabled() == torch.cuda.is_available()
    assert items.item(panel.device_combo.findData("cpu")).isEnabled()
    assert panel.device_combo.itemText(0).startswith("auto: ")


def test_refusals_are_messages_not_runs(qtbot, panel, pool, folder):
    make_tiny(panel, None)
    assert not panel.start_button.isEnabled()
    panel.start()
    assert not panel.is_training() and "folder" in panel.status_label.text()
    panel.set_folder(str(folder))
    panel.model_form.editor("hidden").setText("16, many")
    panel.start()
    assert not panel.is_training() and "Hidden units" in panel.status_label.text()
    panel.model_form.editor("hidden").setText("16")
    panel.start({"no_such_option": 1})
    assert not panel.is_training() and "no_such_option" in panel.status_label.text()
    panel.resume()
    assert not panel.is_training() and "No model file" in panel.status_label.text()
    assert not pool.running()


def test_time_budget_and_training_values(panel):
    panel.length_unit.setCurrentIndex(1)
    panel.minutes_spin.setValue(2.5)
    values = panel.train_values({"seed": 3})
    assert values["max_minutes"] == 2.5 and values["epochs"] == panel_module.TIME_ONLY_EPOCHS
    assert values["seed"] == 3
    panel.length_unit.setCurrentIndex(0)
    panel.epochs_spin.setValue(7)
    assert panel.train_values()["epochs"] == 7 and panel.train_values()["max_minutes"] is None
    panel.lr_spin.lineEdit().setText("3e-4")
    panel.lr_spin.interpretText()
    assert panel.train_values()["lr"] == pytest.approx(3e-4)


def test_output_names_and_helpers(panel, folder, isolated):
    panel.set_folder(str(folder))
    panel.set_model("conv-ae")
    auto = Path(panel.output_edit.text())
    assert auto.parent == isolated / "models" and auto.name.startswith("data-conv-ae-")
    auto.parent.mkdir(parents=True, exist_ok=True)
    auto.write_bytes(b"")
    again = default_model_path(str(folder), "conv-ae")
    assert again != auto and again.name.endswith("-2.aemodel")
    panel.set_output_path(str(isolated / "mine.aemodel"))
    panel.set_model("vae")
    assert panel.output_edit.text() == str(isolated / "mine.aemodel")  # the user's choice stays
    assert format_duration(75) == "1:15" and format_duration(3725) == "1:02:05"
    assert format_duration(None) == "?"
    params = noise_parameters({"gaussian": "gaussian:SIGMA: additive (e.g. gaussian:25)",
                               "none": "none: no noise"})
    assert params == {"gaussian": (("SIGMA",), (25.0,)), "none": ((), ())}


def test_monitor_has_the_plot_over_the_samples(panel):
    monitor = panel.monitor_widget()
    splitter = monitor.findChild(QSplitter)
    assert splitter.widget(0) is panel.loss_plot and splitter.widget(1) is panel.sample_grid
    panel.loss_plot.set_history({"train": [[1, 0.5], [2, 0.25]], "val": [[2, 0.3]]})
    x, y = panel.loss_plot.train_curve.getData()
    assert list(x) == [1, 2] and list(y) == [0.5, 0.25]
    panel.loss_plot.set_log_scale(True)
    assert panel.loss_plot.log_box.isChecked()
    assert panel.loss_plot.plot_widget.getPlotItem().ctrl.logYCheck.isChecked()
    assert "validation 0.3" in panel.loss_plot.summary.text()


def test_showing_the_monitor_loads_the_engine(qtbot, pool, monkeypatch):
    monkeypatch.setattr(panel_module, "engine_loaded", lambda: False)
    panel = TrainingPanel(pool)
    qtbot.addWidget(panel)
    monitor = panel.monitor_widget()
    qtbot.addWidget(monitor)
    assert not panel.environment_ready()
    monitor.show()
    qtbot.waitUntil(panel.environment_ready, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not pool.running(), timeout=RUN_TIMEOUT_MS)  # and its warm-up
    assert panel.current_model() is not None


def test_an_existing_output_file_is_replaced_only_when_confirmed(qtbot, panel, pool, folder,
                                                                isolated, monkeypatch):
    make_tiny(panel, folder)
    existing = isolated / "keep.aemodel"
    existing.write_bytes(b"a model worth keeping")
    panel.set_output_path(str(existing))
    answers = []

    def answer(choice):
        def ask(*args, **kwargs):
            answers.append(args[1])
            return choice
        return ask

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    panel.start({"epochs": 1})
    assert answers and not panel.is_training() and not pool.running()
    assert existing.read_bytes() == b"a model worth keeping"
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert blocker.args == ["completed", str(existing)]
    assert load_model_file(existing).name == "mlp-ae"


def test_image_conversion_of_floats_and_integers():
    gray = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    image = array_to_qimage(gray)
    assert (image.width(), image.height()) == (4, 4)
    assert image.format() == QImage.Format.Format_Grayscale8
    assert image.pixelColor(0, 0).red() == 0 and image.pixelColor(3, 3).red() == 255
    rgb = np.zeros((2, 3, 3), np.uint16)
    rgb[..., 0] = 65535
    image = array_to_qimage(rgb)
    assert image.format() == QImage.Format.Format_RGB888
    assert image.pixelColor(2, 1).getRgb()[:3] == (255, 0, 0)
    assert to_uint8(np.array([np.nan, -1.0, 0.5, 2.0])).tolist() == [0, 0, 128, 255]
    pixmap = array_to_qpixmap(gray[..., None], scale=7)
    assert (pixmap.width(), pixmap.height()) == (28, 28)
    with pytest.raises(ValueError, match="shape"):
        array_to_qimage(np.zeros((2, 2, 2)))


def test_loss_buffer_stays_bounded():
    buffer = PointBuffer(capacity=4, limit=100)
    for step in range(1000):
        buffer.append(step, 1.0 / (step + 1))
    assert len(buffer) <= 100
    assert buffer.x[-1] == 999 and buffer.x[0] == 0
    assert np.all(np.diff(buffer.x) > 0)


def test_sample_grid_refreshes_at_most_about_once_a_second(qtbot):
    grid = SampleGrid()
    qtbot.addWidget(grid)
    grid.resize(600, 300)
    grid.show()
    batch = np.random.default_rng(0).random((10, 28, 28, 1)).astype(np.float32)
    grid.show_samples(1, batch, None, batch)
    grid.show_samples(2, batch, batch, batch)
    grid.show_samples(3, batch, batch, batch, task="denoise")
    assert grid.refresh_count == 1 and grid.step == 1
    assert grid.row_labels() == ["input", "output"] and grid.column_count() == 8
    qtbot.waitUntil(lambda: grid.refresh_count == 2, timeout=3000)
    assert grid.step == 3  # the newest samples, not every one
    assert grid.row_labels() == ["clean", "noisy input", "output"]
    grid.grab()  # paints without error at this size
    grid.clear()
    assert grid.row_labels() == []


def test_advanced_options_fold_away(qtbot, panel):
    advanced = panel.settings.training.advanced
    panel.show()
    assert not advanced.isExpanded()
    advanced.expand(animate=False)
    assert advanced.isExpanded()
    qtbot.waitUntil(lambda: advanced.content().maximumHeight() > 0, timeout=3000)
    assert panel.advanced_train_form.isVisibleTo(panel)
    advanced.collapse(animate=False)
    assert not advanced.isExpanded() and advanced.content().maximumHeight() == 0


def test_an_unwritable_output_is_a_dialog_before_any_image_is_read(qtbot, panel, pool, folder,
                                                                   isolated):
    blocker_file = isolated / "not-a-folder"
    blocker_file.write_text("a file where the output folder should be")
    make_tiny(panel, folder)
    panel.set_output_path(str(blocker_file / "m.aemodel"))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert blocker.args == ["failed", ""]
    dialog = panel.error_dialog
    # The same line as the command line's: the file and the reason, no traceback.
    assert dialog.text() == f"{blocker_file / 'm.aemodel'}: a file stands where a folder is needed"
    assert dialog.detailedText() == ""
    assert blocker_file.read_text() == "a file where the output folder should be"
    assert panel.start_button.isEnabled() and not panel.is_training()
    dialog.done(0)


def test_a_model_too_big_for_memory_is_a_dialog(qtbot, panel, pool, folder, monkeypatch):
    import aestudio.core.models.memory as memory

    monkeypatch.setattr(memory, "machine_memory_bytes", lambda: 50_000)
    make_tiny(panel, folder)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start({"epochs": 1})
    wait_idle(qtbot, panel, pool)
    assert "would need about" in panel.error_dialog.text()
    assert panel.error_dialog.detailedText() == ""
    assert not list(Path(panel.output_edit.text()).parent.glob("*.aemodel"))
    panel.error_dialog.done(0)
