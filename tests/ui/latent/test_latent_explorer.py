"""The latent explorer on a tiny untrained 2-D conv-ae and a generated folder."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt, QThread  # noqa: E402

from aestudio.core.latent.export import read_table  # noqa: E402
from aestudio.core.models import (
    create_model,  # noqa: E402
    inference,  # noqa: E402
)
from aestudio.core.models.modelfile import save_model_file  # noqa: E402
from aestudio.ui.common.workers import WorkerPool  # noqa: E402
from aestudio.ui.latent.explorer import LatentExplorer  # noqa: E402
from aestudio.ui.latent.panels import GREY  # noqa: E402
from tests.conftest import make_digit_folder  # noqa: E402


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4, depth=2,
                         hidden=16)
    return save_model_file(tmp_path / "tiny.aemodel", model.eval())


@pytest.fixture
def explorer(qtbot, tmp_path: Path, model_file: Path):
    folder = make_digit_folder(tmp_path / "digits", per_label=10, size=16, labels=3)
    pool = WorkerPool()
    widget = LatentExplorer(pool)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    widget.set_folder(str(folder))
    widget.set_model(str(model_file))
    qtbot.waitUntil(lambda: widget.latent_map is not None, timeout=30_000)
    yield widget
    widget.shutdown()
    assert pool.stop_all(10_000)
    qtbot.waitUntil(lambda: not pool.running(), timeout=10_000)
    assert not _running_qthreads(), "a QThread was left running"


def _running_qthreads() -> list[QThread]:
    gc.collect()
    running = []
    for obj in gc.get_objects():
        if type(obj) is QThread:
            try:
                if obj.isRunning():
                    running.append(obj)
            except RuntimeError:  # its C++ object is already deleted: not running
                pass
    return running


def _wait_idle(qtbot, widget: LatentExplorer) -> None:
    qtbot.waitUntil(lambda: not widget.is_busy(), timeout=20_000)


def test_click_decodes_exactly_that_code(qtbot, explorer: LatentExplorer) -> None:
    lm = explorer.latent_map
    assert lm.layout == "codes" and lm.exact and len(lm.positions) == 30
    (x0, x1), (y0, y1) = explorer.map_view.visible_range()
    target = (x0 + 0.37 * (x1 - x0), y0 + 0.61 * (y1 - y0))
    # A real mouse click on the viewport at the scene position of that map point.
    vb = explorer.map_view.view_box
    scene = vb.mapViewToScene(QPointF(*target))
    plot = explorer.map_view.plot
    widget_pos = plot.mapFromScene(scene)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    qtbot.waitUntil(lambda: explorer.decoded_image() is not None, timeout=10_000)
    code = explorer.probe_code()
    # The click lands on a whole pixel: within one pixel of the target.
    px, py = explorer.map_view.pixel_size()
    assert abs(code[0] - target[0]) <= px and abs(code[1] - target[1]) <= py
    expected = inference.decode(explorer.model, code[None])[0]
    qtbot.waitUntil(lambda: np.array_equal(explorer.decoded_image(), expected), timeout=10_000)
    # The synthetic path too, at an exact coordinate.
    explorer.click_at(0.25, -0.5)
    qtbot.waitUntil(lambda: np.array_equal(
        explorer.decoded_image(),
        inference.decode(explorer.model, np.array([[0.25, -0.5]], np.float32))[0]),
        timeout=10_000)
    _wait_idle(qtbot, explorer)


def test_interpolation_strip_and_exports(qtbot, explorer: LatentExplorer, tmp_path: Path) -> None:
    lm = explorer.latent_map
    explorer.interpolation.steps_spin.setValue(7)
    a, b = lm.positions[0], lm.positions[-1]
    explorer.interpolate_between(tuple(a), tuple(b))
    qtbot.waitUntil(lambda: explorer.interpolation_frames() is not None, timeout=10_000)
    frames = explorer.interpolation_frames()
    assert frames.shape == (7, 16, 16, 1)
    assert len(explorer.interpolation.strip.frames) == 7
    np.testing.assert_allclose(frames[0], inference.decode(explorer.model, lm.codes[:1])[0],
                               atol=1e-6)
    explorer.export_strip(str(tmp_path / "strip.png"))
    explorer.export_gif(str(tmp_path / "walk.gif"))
    written = explorer.export_frames(str(tmp_path / "frames"))
    assert len(written) == 7 and all(p.exists() for p in written)
    assert (tmp_path / "strip.png").stat().st_size > 0
    assert (tmp_path / "walk.gif").read_bytes()[:3] == b"GIF"
    for suffix in (".csv", ".npy"):
        path = explorer.export_table(str(tmp_path / f"codes{suffix}"))
        table = read_table(path)
        np.testing.assert_allclose(table["codes"], explorer.data.codes, rtol=1e-6)
        assert list(table["label"]) == list(explorer.data.labels)
    explorer.export_anomalies(str(tmp_path / "anomalies.csv"))
    assert len((tmp_path / "anomalies.csv").read_text().splitlines()) == 31
    _wait_idle(qtbot, explorer)


def test_colour_modes_highlight_grid_and_hover(qtbot, explorer: LatentExplorer) -> None:
    from aestudio.core.latent.map import nonlinear_status

    combo = explorer.bar.layout_combo
    for key, reason in nonlinear_status().items():
        row = combo.findData(key)
        assert combo.model().item(row).isEnabled() == (reason is None)
        if reason is not None:  # disabled, and the tooltip names the package to install
            assert "install" in combo.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert explorer.grid_spacing() == "uniform"  # a conv-ae: no prior
    scatter = explorer.map_view.scatter
    for mode in ("error", "none", "label"):
        explorer.set_colour_by(mode)
        assert len(scatter.data) == 30
        assert len({id(b) for b in scatter.data["brush"]}) <= 10  # a few shared brushes
    explorer.set_highlight({"1"})
    assert explorer.legend.checked_keys() == {"1"}
    # The other labels are greyed, not hidden, and drawn first (underneath).
    colours = [b.color().name() for b in scatter.data["brush"]]
    assert len(colours) == 30 and colours[:20] == [GREY.lower()] * 20
    assert GREY.lower() not in colours[20:]
    explorer.set_grid_visible(True)
    qtbot.waitUntil(lambda: explorer.map_view.grid_item.isVisible(), timeout=10_000)
    assert explorer.map_view.grid_item.image.shape[:2] == (16 * 16, 16 * 16)
    explorer.select_point(3)
    assert explorer.selected_point() == 3
    assert explorer.side.point.neighbours.shown() == 8
    explorer.side.setCurrentIndex(1)
    assert explorer.side.ranking.anomalies.count() == 30
    x, y = explorer.latent_map.positions[5]
    vb = explorer.map_view.view_box
    scene = vb.mapViewToScene(QPointF(float(x), float(y)))
    explorer.map_view.plot.scene().sigMouseMoved.emit(scene)  # as a pointer move does
    qtbot.waitUntil(lambda: explorer.map_view.card.isVisible(), timeout=5_000)
    explorer.set_grid_visible(False)
    _wait_idle(qtbot, explorer)


def test_encoding_can_be_cancelled(qtbot, tmp_path: Path, model_file: Path) -> None:
    folder = make_digit_folder(tmp_path / "many", per_label=40, size=16, labels=2)
    pool = WorkerPool()
    widget = LatentExplorer(pool)
    qtbot.addWidget(widget)
    widget.set_model(str(model_file))
    qtbot.waitUntil(lambda: widget.model is not None, timeout=20_000)
    widget.set_folder(str(folder))
    widget.cancel()
    qtbot.waitUntil(lambda: not widget.is_busy(), timeout=20_000)
    assert pool.stop_all(5_000)
    qtbot.waitUntil(lambda: not pool.running(), timeout=5_000)
    assert not _running_qthreads()


def test_vae_grid_uses_prior_quantiles(qtbot) -> None:
    from aestudio.core.latent.codes import FolderCodes

    torch.manual_seed(1)
    vae = create_model("vae", channels=1, image_size=16, latent_dim=2, width=4, hidden=16).eval()
    rng = np.random.default_rng(0)
    data = FolderCodes(codes=rng.normal(size=(40, 2)).astype(np.float32),
                       images=rng.integers(0, 255, (40, 1, 16, 16), dtype=np.uint8),
                       scale=255.0, paths=tuple(f"{i}.png" for i in range(40)),
                       labels=("a", "b") * 20, errors=rng.random(40).astype(np.float32))
    pool = WorkerPool()
    widget = LatentExplorer(pool)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    widget.set_encoded(vae, data)
    assert widget.grid_spacing() == "prior"
    widget.footer.grid_size.setValue(4)
    widget.set_grid_visible(True)
    qtbot.waitUntil(lambda: widget.map_view.grid_item.isVisible(), timeout=10_000)
    assert widget.map_view.grid_item.image.shape[:2] == (64, 64)
    widget.shutdown()
    assert pool.stop_all(5_000)
    qtbot.waitUntil(lambda: not pool.running(), timeout=5_000)
    assert not _running_qthreads()


def test_a_click_is_decoded_in_a_worker_thread(qtbot, explorer: LatentExplorer,
                                               monkeypatch) -> None:
    from aestudio.core.latent import decoding

    threads: list[threading.Thread] = []
    real = decoding.decode_codes

    def recording(model, codes):
        threads.append(threading.current_thread())
        return real(model, codes)

    monkeypatch.setattr(decoding, "decode_codes", recording)
    _wait_idle(qtbot, explorer)
    threads.clear()
    before = explorer.decoded_image()
    explorer.click_at(0.4, 0.1)
    # The click returns before the decode: the image arrives when the worker answers.
    assert explorer.decoded_image() is before
    expected = inference.decode(explorer.model, np.array([[0.4, 0.1]], np.float32))[0]
    qtbot.waitUntil(lambda: explorer.decoded_image() is not None
                    and np.array_equal(explorer.decoded_image(), expected), timeout=10_000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    # A drag asks for many decodes: the newest waiting one replaces the others.
    threads.clear()
    for i in range(20):
        explorer.map_view.probed.emit(0.02 * i, -0.3, "drag", Qt.KeyboardModifier.NoModifier)
    last = inference.decode(explorer.model, np.array([[0.38, -0.3]], np.float32))[0]
    qtbot.waitUntil(lambda: np.allclose(explorer.decoded_image(), last, atol=1e-6),
                    timeout=10_000)
    assert len(threads) <= 2  # the first request, then the newest
    _wait_idle(qtbot, explorer)


def test_the_latent_ui_imports_no_torch() -> None:
    code = ("import sys, aestudio.ui.latent.explorer, aestudio.ui.latent.live; "
            "print('torch' in sys.modules)")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_the_summary_gives_the_maps_5nn_and_the_codes_linear_probe(qtbot,
                                                                  explorer: LatentExplorer):
    summary = explorer.legend_panel.summary
    qtbot.waitUntil(lambda: "linear probe of the codes" in summary.text(), timeout=30_000)
    line = next(x for x in summary.text().splitlines() if x.startswith("linear probe"))
    assert 0.0 <= float(line.rsplit(" ", 1)[1]) <= 1.0
    assert "5-NN label accuracy" in summary.text()
