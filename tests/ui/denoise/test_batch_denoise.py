"""The batch queue on real files: a tiny random-init denoiser and small generated images."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import shiboken6  # noqa: E402
from denoise_helpers import (  # noqa: E402
    gray16,
    photo,
    save_broken,
    save_png,
    tiny_autoencoder,
    tiny_denoiser,
)
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from aestudio.core.io.read import read_image  # noqa: E402
from aestudio.ui.common.workers import WorkerPool  # noqa: E402
from aestudio.ui.denoise.batch_panel import (  # noqa: E402
    CANCELLED,
    DONE,
    FAILED,
    NOT_STARTED,
    BatchDenoisePanel,
)

WAIT_MS = 30_000


@pytest.fixture
def pool(qtbot):
    """A worker pool whose threads must all have ended when the test is over."""
    pool = WorkerPool()
    threads = []
    start = pool.start

    def recording_start(worker):
        thread = start(worker)
        threads.append(thread)
        return thread

    pool.start = recording_start
    yield pool
    assert pool.stop_all(10_000)
    qtbot.waitUntil(lambda: not pool.running(), timeout=10_000)
    running = [t for t in threads if shiboken6.isValid(t) and t.isRunning()]
    assert not running, f"QThreads left running: {running}"


@pytest.fixture
def panel(qtbot, pool):
    widget = BatchDenoisePanel(pool)
    widget.offer_bundled_model = False  # these tests choose their models
    widget.resize(820, 560)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()
    for box in widget.findChildren(QMessageBox):
        box.close()


def _load_model(qtbot, panel: BatchDenoisePanel, path: Path) -> None:
    with qtbot.waitSignal(panel.model_loaded, timeout=WAIT_MS):
        panel.set_model(str(path))


def _add(qtbot, panel: BatchDenoisePanel, *paths: Path) -> None:
    with qtbot.waitSignal(panel.files_added, timeout=WAIT_MS):
        panel.add_paths(paths)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=WAIT_MS)


def test_folder_with_a_broken_file(qtbot, panel, tmp_path):
    model = tiny_denoiser(tmp_path / "gray.aemodel", channels=1)
    folder = tmp_path / "scans"
    folder.mkdir()
    save_png(folder / "a.png", gray16())
    save_broken(folder / "b.png")
    save_png(folder / "c.png", gray16(40, 56, seed=2))
    _load_model(qtbot, panel, model)
    _add(qtbot, panel, folder)
    rows = panel.rows()
    assert [r.relative for r in rows] == ["a.png", "b.png", "c.png"]
    assert panel.output_folder() == folder / "denoised"  # never the input folder
    assert panel.table_model.data(panel.table_model.index(0, 2)) == "16-bit gray"
    with qtbot.waitSignal(panel.batch_finished, timeout=WAIT_MS) as blocker:
        panel.start()
    summary = blocker.args[0]
    rows = panel.rows()
    assert [r.status for r in rows] == [DONE, FAILED, DONE]
    status = panel.table_model.data(panel.table_model.index(1, 3))
    assert status.startswith("Failed:") and "corrupt" in status
    out = folder / "denoised"
    for name, source in (("a.png", gray16()), ("c.png", gray16(40, 56, seed=2))):
        written, _ = read_image(out / name)
        assert written.dtype == np.uint16 and written.shape == source.shape
        sidecar = json.loads((out / f"{name}.json").read_text())
        assert sidecar["bit_depth"] == 16
    assert not (out / "b.png").exists()
    assert len(summary.written) == 2 and len(summary.failed) == 1
    assert "2 written, 1 failed" in panel.summary_label.text()
    assert panel.open_output_button.isEnabled()
    # A second search of the folder does not pick up the outputs.
    _add(qtbot, panel, folder)
    assert len(panel.rows()) == 3


def test_cancel_stops_mid_batch(qtbot, panel, tmp_path):
    model = tiny_denoiser(tmp_path / "colour.aemodel")
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        save_png(folder / f"p{i}.png", photo(320, 320, seed=i))
    _load_model(qtbot, panel, model)
    _add(qtbot, panel, folder)
    panel.tile_auto.setChecked(False)
    panel.tile_spin.setValue(64)  # many tiles per file, so there is a "current tile"
    panel.start()
    assert panel.is_running() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.rows()[0].progress > 0, timeout=WAIT_MS)
    with qtbot.waitSignal(panel.batch_finished, timeout=WAIT_MS) as blocker:
        panel.cancel()
    summary = blocker.args[0]
    assert summary.cancelled
    statuses = [r.status for r in panel.rows()]
    assert CANCELLED in statuses or NOT_STARTED in statuses
    assert statuses[-1] == NOT_STARTED
    written = sorted(p.name for p in (folder / "denoised").glob("*.png"))
    assert len(written) < 5 and written == [p.name for p in summary.written]
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=WAIT_MS)
    assert panel.start_button.isEnabled()


def test_files_in_place_get_a_suffix_and_inputs_survive(qtbot, panel, tmp_path):
    model = tiny_denoiser(tmp_path / "m.aemodel")
    source = save_png(tmp_path / "one.png", photo())
    before = source.read_bytes()
    _load_model(qtbot, panel, model)
    _add(qtbot, panel, source)
    panel.set_output_folder(tmp_path)
    assert "suffix" in panel.output_hint.text()
    panel.amount_slider.setValue(50)
    panel.luma_slider.setValue(30)
    with qtbot.waitSignal(panel.batch_finished, timeout=WAIT_MS):
        panel.start()
    assert source.read_bytes() == before
    out = tmp_path / "one-denoised.png"
    assert read_image(out)[0].dtype == np.uint8
    settings = json.loads(Path(f"{out}.json").read_text())["settings"]
    assert settings["amount"] == 0.5 and settings["luma"] == 0.3 and settings["chroma"] == 1.0


def test_bad_model_and_autoencoder_are_refused(qtbot, panel, tmp_path):
    bad = tmp_path / "bad.aemodel"
    bad.write_bytes(b"\x00" * 64)
    with qtbot.waitSignal(panel.error_occurred, timeout=WAIT_MS) as blocker:
        panel.set_model(str(bad))
    assert blocker.args[0] == "Cannot open the model" and "\n" not in blocker.args[1]
    with qtbot.waitSignal(panel.error_occurred, timeout=WAIT_MS) as blocker:
        panel.set_model(str(tiny_autoencoder(tmp_path / "ae.aemodel")))
    assert "autoencoder" in blocker.args[1]
    assert panel.loaded is None and not panel.start_button.isEnabled()


def test_not_images_are_reported(qtbot, panel, tmp_path):
    note = tmp_path / "notes.txt"
    note.write_text("hello")
    with qtbot.waitSignal(panel.files_added, timeout=WAIT_MS) as blocker:
        panel.add_paths([note, tmp_path / "missing.png"])
    assert blocker.args[0] == 0
    assert "not an image" in panel.summary_label.text()


def test_dropping_a_model_and_a_folder(qtbot, panel, tmp_path):
    model = tiny_denoiser(tmp_path / "drop.aemodel")
    folder = tmp_path / "dropped"
    (folder / "sub").mkdir(parents=True)
    save_png(folder / "sub" / "x.png", photo(24, 24))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(model)), QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignals([panel.model_loaded, panel.files_added], timeout=WAIT_MS):
        panel.dropEvent(event)
    assert [r.relative for r in panel.rows()] == ["sub/x.png"]
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=WAIT_MS)
    with qtbot.waitSignal(panel.batch_finished, timeout=WAIT_MS):
        panel.start()
    assert (folder / "denoised" / "sub" / "x.png").is_file()  # the layout is mirrored


def test_an_output_folder_that_cannot_be_made_is_one_dialog_and_nothing_changes(
        qtbot, panel, tmp_path):
    model = tiny_denoiser(tmp_path / "d.aemodel")
    folder = tmp_path / "scans"
    folder.mkdir()
    save_png(folder / "a.png", gray16())
    blocker_file = tmp_path / "results"
    blocker_file.write_text("mine")
    _load_model(qtbot, panel, model)
    _add(qtbot, panel, folder)
    panel.set_output_folder(blocker_file)
    with qtbot.waitSignal(panel.error_occurred, timeout=WAIT_MS) as blocker:
        panel.start()
    # The command line's line, once for the batch rather than once per photo.
    assert blocker.args == ["The batch stopped",
                            f"{blocker_file}: a file stands where a folder is needed"]
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=WAIT_MS)
    assert blocker_file.read_text() == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"]
    assert panel.start_button.isEnabled()


def test_a_fresh_panel_opens_with_the_bundled_model(qtbot, pool):
    from aestudio.core.models.bundled import bundled_models

    if not bundled_models():
        pytest.skip("no bundled model in this tree")
    widget = BatchDenoisePanel(pool)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.model_loaded, timeout=WAIT_MS):
        widget.show()
    assert widget.loaded is not None and widget.loaded.model.kind == "denoiser"
    assert "photo" in widget.model_label.text()
    widget.shutdown()
