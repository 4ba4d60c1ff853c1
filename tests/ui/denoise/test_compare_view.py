"""The compare view on real core objects: a tiny random-init denoiser and small images."""

from __future__ import annotations

import os
import subprocess
import sys

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

from aestudio.core.denoise.apply import denoise_array  # noqa: E402
from aestudio.core.denoise.preview import AllDone, NoisyReady, RegionDone  # noqa: E402
from aestudio.core.denoise.regions import Focus  # noqa: E402
from aestudio.core.evaluation.metrics import quality_scores  # noqa: E402
from aestudio.core.io.convert import from_float  # noqa: E402
from aestudio.core.models.modelfile import load_model_file  # noqa: E402
from aestudio.ui.common.image_convert import to_uint8  # noqa: E402
from aestudio.ui.common.workers import Worker, WorkerPool  # noqa: E402
from aestudio.ui.denoise.compare_jobs import compare_job  # noqa: E402
from aestudio.ui.denoise.compare_view import CompareView  # noqa: E402

WAIT_MS = 20_000


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
def view(qtbot, pool):
    widget = CompareView(pool)
    widget.offer_bundled_model = False  # these tests choose their models
    widget.region_size = 32  # several regions even on tiny images, so seams are exercised
    widget.resize(1000, 520)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()
    for box in widget.findChildren(QMessageBox):
        box.close()


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return tiny_denoiser(tmp_path / "tiny.aemodel")


def _open(qtbot, view: CompareView, image: Path, model: Path | None) -> None:
    if model is not None:
        with qtbot.waitSignal(view.model_loaded, timeout=WAIT_MS):
            view.set_model(str(model))
    with qtbot.waitSignal(view.image_loaded, timeout=WAIT_MS):
        view.open_image(str(image))
    if model is not None:
        qtbot.waitUntil(view.is_complete, timeout=WAIT_MS)


def _close(actual: np.ndarray, expected: np.ndarray, levels: int = 1) -> None:
    diff = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
    assert diff.max() <= levels, f"max difference {diff.max()} levels"


def test_panes_show_the_image_and_its_full_denoising(qtbot, view, tmp_path, model_file):
    image = photo(120, 136)  # larger than a region with its margins: seams would show
    path = save_png(tmp_path / "photo.png", image)
    _open(qtbot, view, path, model_file)
    expected = denoise_array(load_model_file(model_file).model, image)
    _close(view.denoised_array(), expected)
    _close(view.output_canvas.array(), to_uint8(expected))
    assert np.array_equal(view.noisy_canvas.array(), image)
    assert not view.output_canvas.pending
    assert "136 × 120" in view.image_label.text() and "8-bit" in view.image_label.text()
    assert view.visible_panes() == ["noisy", "output"]


def test_the_image_line_shows_the_noise_estimated_from_the_photo(qtbot, view, tmp_path):
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:160, 0:160] / 160
    clean = np.stack([0.3 + 0.4 * x, 0.4 + 0.2 * y, 0.5 + 0.0 * x], axis=-1)
    noisy = np.clip(clean + rng.normal(0, 12 / 255, clean.shape), 0, 1)
    path = save_png(tmp_path / "noisy.png", np.round(noisy * 255).astype(np.uint8))
    _open(qtbot, view, path, None)
    text = view.image_label.text()
    assert "noise ≈" in text and "(independent)" in text
    assert 9 < view.noise_estimate.sigma < 15
    assert "compares pixels 1 apart" in view.image_label.toolTip()
    small = save_png(tmp_path / "small.png", photo(40, 40))
    _open(qtbot, view, small, None)
    assert "noise" not in view.image_label.text() and view.noise_estimate is None


def test_sixteen_bit_gray_is_denoised_at_full_depth(qtbot, view, tmp_path, tmp_path_factory):
    model = tiny_denoiser(tmp_path_factory.mktemp("m") / "gray.aemodel", channels=1)
    image = gray16()
    path = save_png(tmp_path / "gray16.png", image)
    _open(qtbot, view, path, model)
    result = view.denoised_array()
    assert result.dtype == np.uint16 and result.shape == image.shape
    expected = denoise_array(load_model_file(model).model, image)
    _close(result, expected)
    assert "16-bit" in view.image_label.text() and "gray" in view.image_label.text()


def test_zoom_and_pan_are_linked(qtbot, view, tmp_path, model_file):
    _open(qtbot, view, save_png(tmp_path / "p.png", photo(96, 128)), model_file)
    noisy, output = view.panes["noisy"], view.panes["output"]
    noisy.zoom_at(4.0, QPointF(30, 30))
    assert output.zoom() == pytest.approx(noisy.zoom())
    a, b = noisy.visible_rect(), output.visible_rect()
    assert abs(a.center().x() - b.center().x()) < 1.5
    assert abs(a.center().y() - b.center().y()) < 1.5
    # Panning the other pane moves the first one.
    output.set_view(QPointF(20, 20), output.zoom())
    assert abs(noisy.center().x() - output.center().x()) < 1.5
    # The worker is told what the panes show, so that part is denoised first.
    x0, y0, x1, y1 = view.focus.get()
    shown = output.visible_rect().intersected(output.image_rect())
    assert (x0, y0) == pytest.approx((shown.left(), shown.top()), abs=1.5)
    assert (x1, y1) == pytest.approx((shown.right(), shown.bottom()), abs=1.5)
    view.one_to_one()
    assert noisy.zoom() == pytest.approx(noisy.one_to_one_zoom())
    assert output.zoom() == pytest.approx(noisy.zoom())
    assert view.zoom_label.text() == "100%"


def test_split_and_residual_modes_render(qtbot, view, tmp_path, model_file):
    image = photo()
    _open(qtbot, view, save_png(tmp_path / "p.png", image), model_file)
    view.set_mode("split")
    assert view.visible_panes() == ["split"]
    split = view.panes["split"]
    split.set_divider_fraction(0.25)
    qtbot.wait(20)
    assert split.divider_fraction() == 0.25
    assert not split.grab().isNull()
    view.set_mode("residual")
    assert view.visible_panes() == ["noisy", "output", "residual"]
    view.set_residual_gain(4)
    assert "×4" in view.titles["residual"].text()
    qtbot.waitUntil(view.is_rendered, timeout=WAIT_MS)
    output = view.output_array()  # the model's raw output: residuals may exceed [0, 1]
    expected = np.clip(0.5 + 4 * (image.astype(np.float32) / 255 - output), 0, 1)
    _close(view.residual_canvas.array(), to_uint8(expected))
    assert not view.panes["residual"].grab().isNull()


def test_amount_zero_shows_the_input(qtbot, view, tmp_path, model_file):
    image = photo()
    _open(qtbot, view, save_png(tmp_path / "p.png", image), model_file)
    view.amount_slider.setValue(0)
    qtbot.waitUntil(lambda: np.array_equal(view.output_canvas.array(), image), timeout=WAIT_MS)
    assert "amount 0%" in view.titles["output"].text()


def test_reference_gives_psnr_and_ssim(qtbot, view, tmp_path, model_file):
    clean = photo(seed=3)
    noisy = np.clip(clean.astype(int) + np.random.default_rng(0).integers(-20, 21, clean.shape),
                    0, 255).astype(np.uint8)
    _open(qtbot, view, save_png(tmp_path / "noisy.png", noisy), model_file)
    with qtbot.waitSignal(view.metrics_changed, timeout=WAIT_MS) as blocker:
        view.set_reference(str(save_png(tmp_path / "clean.png", clean)))
    scores = blocker.args[0]
    assert {"psnr", "ssim", "noisy_psnr", "noisy_ssim"} <= set(scores)
    assert "PSNR" in view.metrics_label.text() and "SSIM" in view.metrics_label.text()
    assert "reference" in view.visible_panes()
    assert np.array_equal(view.reference_canvas.array(), clean)


def test_synthetic_noise_is_seeded_and_scored(qtbot, view, tmp_path, model_file):
    image = photo()
    _open(qtbot, view, save_png(tmp_path / "clean.png", image), model_file)
    with qtbot.waitSignal(view.metrics_changed, timeout=WAIT_MS):
        view.set_noise("gaussian:25", seed=7)
    first = view.noisy_canvas.array()
    assert not np.array_equal(first, image)
    assert view.visible_panes() == ["noisy", "output", "reference"]
    assert "PSNR" in view.metrics_label.text()
    # The same settings give the same noise.
    view.set_noise("none")
    qtbot.waitUntil(lambda: np.array_equal(view.noisy_canvas.array(), image), timeout=WAIT_MS)
    view.set_noise("gaussian:25", seed=7)
    qtbot.waitUntil(lambda: np.array_equal(view.noisy_canvas.array(), first), timeout=WAIT_MS)
    qtbot.waitUntil(view.is_complete, timeout=WAIT_MS)


def test_image_without_model_and_bad_model_file(qtbot, view, tmp_path):
    image = photo()
    _open(qtbot, view, save_png(tmp_path / "p.png", image), None)
    qtbot.waitUntil(lambda: not view.noisy_canvas.is_empty(), timeout=WAIT_MS)
    assert view.output_canvas.is_empty() and "model" in view.output_canvas.placeholder
    bad = tmp_path / "bad.aemodel"
    bad.write_bytes(b"not a model at all")
    with qtbot.waitSignal(view.error_occurred, timeout=WAIT_MS) as blocker:
        view.set_model(str(bad))
    assert blocker.args[0] == "Cannot open the model"
    assert "\n" not in blocker.args[1] and "bad.aemodel" in blocker.args[1]
    assert view.loaded is None


def test_unreadable_image_gives_an_error(qtbot, view, tmp_path):
    with qtbot.waitSignal(view.error_occurred, timeout=WAIT_MS) as blocker:
        view.open_image(str(save_broken(tmp_path / "broken.png")))
    assert blocker.args[0] == "Cannot open the image"


def test_autoencoder_shows_reconstruction_at_model_size(qtbot, view, tmp_path):
    model = tiny_autoencoder(tmp_path / "ae.aemodel")
    _open(qtbot, view, save_png(tmp_path / "p.png", photo(40, 48)), model)
    assert view.output_canvas.array().shape == (16, 16, 3)
    assert view.noisy_canvas.array().shape == (16, 16, 3)
    assert view.note_label.isVisibleTo(view) and "16 × 16" in view.note_label.text()
    assert view.titles["output"].text().startswith("Reconstructed")


def test_new_request_cancels_the_old_one(qtbot, view, tmp_path, model_file):
    big = save_png(tmp_path / "big.png", photo(256, 256))
    with qtbot.waitSignal(view.model_loaded, timeout=WAIT_MS):
        view.set_model(str(model_file))
    with qtbot.waitSignal(view.image_loaded, timeout=WAIT_MS):
        view.open_image(str(big))
    first = view._relay
    view.set_noise("gaussian:10")
    assert first.stop_requested
    qtbot.waitUntil(view.is_complete, timeout=WAIT_MS)
    assert view.titles["noisy"].text() == "Input + gaussian:10 noise"


def test_quality_scores_match_core_metrics():
    rng = np.random.default_rng(0)
    ref = (rng.integers(0, 256, (20, 20, 3)) / 255).astype(np.float32)
    scores = quality_scores(ref, ref + 0.01, ref)
    assert scores["psnr"] == float("inf") and scores["ssim"] == pytest.approx(1.0)
    assert scores["noisy_psnr"] == pytest.approx(40.0, abs=0.01)


def test_job_runs_synchronously_visible_region_first(tmp_path, model_file):
    loaded = load_model_file(model_file)
    image = photo(128, 160)
    focus = Focus()
    focus.set(120.0, 100.0, 160.0, 128.0)  # the panes show the bottom-right corner
    worker = Worker(compare_job(3, loaded, image, focus=focus, region_size=32))
    events = []
    worker.event.connect(events.append)
    worker.run()
    done = [e for e in events if isinstance(e, RegionDone)]
    assert isinstance(events[0], NoisyReady) and isinstance(events[-1], AllDone)
    assert all(e.generation == 3 for e in events)
    first = done[0].region
    assert first.x <= 140 < first.x + first.w and first.y <= 114 < first.y + first.h
    result = np.zeros((128, 160, 3), np.float32)
    for e in done:
        r = e.region
        result[r.y:r.y + r.h, r.x:r.x + r.w] = e.pixels
    _close(from_float(result, np.uint8), denoise_array(loaded.model, image))


def test_job_stops_when_asked(model_file):
    loaded = load_model_file(model_file)
    worker = Worker(compare_job(1, loaded, photo(128, 160), region_size=32))
    events = []
    worker.event.connect(lambda e: (events.append(e), worker.request_stop()))
    worker.run()
    assert worker.result is None
    assert sum(isinstance(e, RegionDone) for e in events) <= 1
    assert not any(isinstance(e, AllDone) for e in events)


def test_dropping_files_opens_them(qtbot, view, tmp_path, model_file):
    image = save_png(tmp_path / "drop.png", photo())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(model_file)), QUrl.fromLocalFile(str(image))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignals([view.model_loaded, view.image_loaded], timeout=WAIT_MS):
        view.dropEvent(event)
    qtbot.waitUntil(view.is_complete, timeout=WAIT_MS)
    assert view.image_path == str(image) and view.model_path == str(model_file)


def test_film_strengths_mix_luma_and_chroma(qtbot, view, tmp_path, model_file):
    image = photo()
    _open(qtbot, view, save_png(tmp_path / "p.png", image), model_file)
    view.set_film_strengths(luma=0.0, chroma=1.0)  # keep the grain, remove colour noise
    qtbot.waitUntil(view.is_rendered, timeout=WAIT_MS)
    expected = denoise_array(load_model_file(model_file).model, image, luma=0.0, chroma=1.0)
    _close(view.output_canvas.array(), expected)
    assert "luma 0%" in view.titles["output"].text()


def test_reference_of_another_size_is_refused(qtbot, view, tmp_path, model_file):
    _open(qtbot, view, save_png(tmp_path / "p.png", photo(72, 88)), model_file)
    with qtbot.waitSignal(view.error_occurred, timeout=WAIT_MS) as blocker:
        view.set_reference(str(save_png(tmp_path / "small.png", photo(40, 40))))
    assert blocker.args[1] == "the reference is 40 × 40 pixels but the image is 88 × 72"
    assert view.reference_image is None


def test_importing_the_widgets_does_not_import_torch():
    # The main window opens before torch is loaded; these modules must not pull it in.
    code = ("import sys, aestudio.ui.denoise.compare_view, aestudio.ui.denoise.batch_panel; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_noise_picker_offers_the_engine_kinds_and_defaults(qtbot):
    from aestudio.core.data.noise import parse_noise
    from aestudio.core.data.noise_syntax import NOISE_EXAMPLES, NOISE_KINDS
    from aestudio.ui.denoise.compare_controls import NoiseControl

    control = NoiseControl()
    qtbot.addWidget(control)
    kinds = [control.kind.itemData(i) for i in range(control.kind.count())]
    assert kinds == list(NOISE_KINDS)
    for index, kind in enumerate(kinds):
        control.kind.setCurrentIndex(index)
        # Each kind starts at the engine's example, which the engine parses back.
        assert parse_noise(control.spec()) == parse_noise(NOISE_EXAMPLES[kind])


def test_save_result_keeps_depth_adds_a_sidecar_and_never_writes_over_the_photo(
        qtbot, view, tmp_path, tmp_path_factory):
    import json

    from aestudio.core.io.read import read_image
    from aestudio.ui.denoise.compare_save import default_result_path

    model = tiny_denoiser(tmp_path_factory.mktemp("m") / "gray.aemodel", channels=1)
    path = save_png(tmp_path / "scan.png", gray16())
    assert not view.save_button.isEnabled()
    _open(qtbot, view, path, model)
    assert view.save_button.isEnabled()
    view.set_amount(0.5)
    target = default_result_path(str(path))
    assert target == tmp_path / "scan-denoised.png"
    with qtbot.waitSignal(view.result_saved, timeout=WAIT_MS) as blocker:
        view.save_result(str(target))
    assert blocker.args == [str(target)]
    saved, info = read_image(target)
    assert info.bit_depth == 16 and saved.shape == gray16().shape
    from aestudio.core.denoise.mix import mix

    shown = from_float(mix(view._noisy, view._denoised, amount=0.5), np.uint16)  # noqa: SLF001
    _close(saved, shown.reshape(saved.shape), levels=1)
    assert not np.array_equal(saved, from_float(view._denoised, np.uint16).reshape(  # noqa: SLF001
        saved.shape))  # the strength was applied
    sidecar = json.loads((tmp_path / "scan-denoised.png.json").read_text())
    assert sidecar["settings"]["amount"] == 0.5 and sidecar["source"] == str(path)
    before = path.read_bytes()
    with qtbot.waitSignal(view.error_occurred, timeout=WAIT_MS) as blocker:
        view.save_result(str(path))
    assert blocker.args[0] == "Cannot save the result" and "overwrite the input" in blocker.args[1]
    assert path.read_bytes() == before
    assert default_result_path(str(path)) == tmp_path / "scan-denoised-2.png"


def test_a_fresh_view_denoises_a_dropped_photo_with_the_bundled_model(qtbot, pool, tmp_path):
    from aestudio.core.models.bundled import bundled_models

    if not bundled_models():
        pytest.skip("no bundled model in this tree")
    widget = CompareView(pool)
    qtbot.addWidget(widget)
    widget.resize(1000, 520)
    with qtbot.waitSignal(widget.model_loaded, timeout=WAIT_MS) as loaded:
        widget.show()
    assert Path(loaded.args[0]) == bundled_models()[0].path
    assert "photo" in widget.model_label.text()
    with qtbot.waitSignal(widget.image_loaded, timeout=WAIT_MS):
        widget.open_image(str(save_png(tmp_path / "p.png", photo())))
    qtbot.waitUntil(widget.is_complete, timeout=WAIT_MS)
    assert widget.denoised_array() is not None
    # A model the user opens replaces it, even while the bundled one is still loading.
    other = CompareView(pool)
    qtbot.addWidget(other)
    user_model = tiny_denoiser(tmp_path / "mine.aemodel")
    with qtbot.waitSignal(other.model_loaded, timeout=WAIT_MS):
        other.show()  # starts loading the bundled model
        other.set_model(str(user_model))
    qtbot.wait(500)
    assert other.model_path == str(user_model)
    widget.shutdown()
    other.shutdown()
