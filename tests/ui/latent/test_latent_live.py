"""The latent map follows a training run: snapshots become refreshes, in place, throttled.

The explorer alone, fed snapshots made here (fast and exact); the whole window, training a
real model, is in test_latent_live_window.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

pytest.importorskip("pytestqt")

from aestudio.core.data.pca import fit_pca  # noqa: E402
from aestudio.core.latent.live import aligned_pca  # noqa: E402
from aestudio.core.models import (
    create_model,  # noqa: E402
    inference,  # noqa: E402
)
from aestudio.core.training.messages import LiveSnapshot  # noqa: E402
from aestudio.ui.common.workers import WorkerPool  # noqa: E402
from aestudio.ui.latent import live as latent_live  # noqa: E402
from aestudio.ui.latent.explorer import LatentExplorer  # noqa: E402
from tests.conftest import make_digit_folder  # noqa: E402

SIZE = 16


def options(name: str, latent: int = 2) -> dict:
    extra = {"mlp-ae": {"hidden": (16,)}, "vae": {"width": 4, "depth": 1, "hidden": 16}}
    return {"channels": 1, "image_size": SIZE, "latent_dim": latent, **extra[name]}


def snapshot(run: int, step: int, name: str, opts: dict, folder: Path,
             seed: int) -> tuple[LiveSnapshot, torch.nn.Module]:
    torch.manual_seed(seed)
    model = create_model(name, **opts).eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return LiveSnapshot(run, step, name, dict(opts), str(folder), state), model


def float_images(explorer: LatentExplorer) -> torch.Tensor:
    data = explorer.data
    return torch.from_numpy(np.asarray(data.images, np.float32) / data.scale)


@pytest.fixture
def setup(qtbot, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(latent_live, "MIN_INTERVAL_S", 0.2)  # quicker refreshes here
    folder = make_digit_folder(tmp_path / "digits", per_label=8, size=SIZE, labels=3)
    pool = WorkerPool()
    explorer = LatentExplorer(pool)
    qtbot.addWidget(explorer)
    explorer.resize(1000, 650)
    explorer.show()
    explorer.set_folder(str(folder))
    statuses: list[str] = []
    explorer.status.connect(statuses.append)
    yield explorer, folder, statuses
    explorer.shutdown()
    assert pool.stop_all(10_000)
    qtbot.waitUntil(lambda: not pool.running(), timeout=10_000)


def shown_step(qtbot, explorer: LatentExplorer, step: int) -> None:
    qtbot.waitUntil(lambda: explorer.live_step() == step and not explorer.is_busy(),
                    timeout=20_000)


def test_snapshots_refresh_the_map_in_place(qtbot, setup) -> None:
    explorer, folder, statuses = setup
    opts = options("mlp-ae")
    first, model1 = snapshot(1, 10, "mlp-ae", opts, folder, seed=1)
    explorer.show_training_snapshot(first)
    shown_step(qtbot, explorer, 10)
    lm = explorer.latent_map
    assert lm.layout == "codes" and len(lm.positions) == 24
    np.testing.assert_allclose(lm.positions, inference.encode(model1, float_images(explorer)),
                               rtol=1e-5, atol=1e-6)
    assert "live: step 10 (training)" in explorer.summary.text()
    images = explorer.data.images

    # The user zooms, chooses labels and colours, selects a point; then the weights change.
    vb = explorer.map_view.view_box
    vb.scaleBy((0.5, 0.5))
    vb.sigRangeChangedManually.emit([True, True])  # as the wheel does
    zoomed = explorer.map_view.visible_range()
    explorer.set_highlight({"0"})
    explorer.select_point(3)
    explorer.click_at(0.1, -0.2)
    second, model2 = snapshot(1, 20, "mlp-ae", opts, folder, seed=2)
    explorer.show_training_snapshot(second)
    shown_step(qtbot, explorer, 20)
    assert explorer.data.images is images  # encoded again from memory, not read again
    np.testing.assert_allclose(explorer.latent_map.positions,
                               inference.encode(model2, float_images(explorer)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explorer.map_view.visible_range(), zoomed, rtol=1e-9)
    assert explorer.legend.checked_keys() == {"0"}
    # A click decodes with the newest weights, exactly at its coordinates.
    expected = inference.decode(model2, np.array([[0.1, -0.2]], np.float32))[0]
    qtbot.waitUntil(lambda: np.allclose(explorer.decoded_image(), expected, atol=1e-6),
                    timeout=10_000)
    explorer.click_at(-0.3, 0.25)
    expected = inference.decode(model2, np.array([[-0.3, 0.25]], np.float32))[0]
    qtbot.waitUntil(lambda: np.allclose(explorer.decoded_image(), expected, atol=1e-6),
                    timeout=10_000)

    # Hidden: snapshots wait; shown again: the latest one is drawn.
    explorer.hide()
    third, _ = snapshot(1, 30, "mlp-ae", opts, folder, seed=3)
    fourth, model4 = snapshot(1, 40, "mlp-ae", opts, folder, seed=4)
    explorer.show_training_snapshot(third)
    explorer.show_training_snapshot(fourth)
    qtbot.wait(400)
    assert explorer.live_step() == 20 and explorer.live.pending()
    explorer.show()
    shown_step(qtbot, explorer, 40)
    np.testing.assert_allclose(explorer.latent_map.positions,
                               inference.encode(model4, float_images(explorer)),
                               rtol=1e-5, atol=1e-6)

    # The run ends: later snapshots of it change nothing.
    explorer.end_training("stopped")
    assert "from training: step 40 (stopped)" in explorer.summary.text()
    shown = explorer.latent_map
    late, _ = snapshot(1, 50, "mlp-ae", opts, folder, seed=5)
    explorer.show_training_snapshot(late)
    qtbot.wait(500)
    assert explorer.latent_map is shown and not explorer.live.pending()
    assert statuses == ["live map: reading digits…"]  # no error on the way


def test_a_larger_code_is_laid_out_by_pca_of_posterior_means(qtbot, setup) -> None:
    explorer, folder, _ = setup
    opts = options("vae", latent=3)
    first, model1 = snapshot(7, 5, "vae", opts, folder, seed=1)
    explorer.show_training_snapshot(first)
    shown_step(qtbot, explorer, 5)
    codes = inference.encode(model1, float_images(explorer))  # posterior means
    np.testing.assert_allclose(explorer.data.codes, codes, rtol=1e-5, atol=1e-6)
    lm = explorer.latent_map
    assert lm.layout == "pca"
    np.testing.assert_allclose(lm.positions, fit_pca(codes).project(codes), atol=1e-5)
    # The next fit keeps the previous one's signs: the map does not mirror.
    second, model2 = snapshot(7, 6, "vae", opts, folder, seed=2)
    explorer.show_training_snapshot(second)
    shown_step(qtbot, explorer, 6)
    codes2 = inference.encode(model2, float_images(explorer))
    pca = aligned_pca(codes2, lm.pca)
    np.testing.assert_allclose(explorer.latent_map.positions, pca.project(codes2), atol=1e-5)
    assert np.all(np.einsum("kd,kd->k", pca.components, lm.pca.components) >= 0)


def test_a_broken_snapshot_is_a_message_and_the_next_run_works(qtbot, setup,
                                                                 monkeypatch) -> None:
    explorer, folder, statuses = setup
    opened: list[str] = []
    explorer.live.failed.connect(lambda title, message, _d: opened.append(f"{title}: {message}"))
    opts = options("mlp-ae")
    good, model = snapshot(1, 3, "mlp-ae", opts, folder, seed=1)
    broken = LiveSnapshot(1, 3, "mlp-ae", opts, str(folder),
                          {k: v for k, v in list(good.state.items())[1:]})
    explorer.show_training_snapshot(broken)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    assert "live latent map stopped" in opened[0] and "state_dict" in opened[0]
    explorer.show_training_snapshot(good)  # the same run: no retry, no second message
    qtbot.wait(400)
    assert len(opened) == 1 and explorer.live_step() is None
    explorer.show_training_snapshot(LiveSnapshot(2, 4, "mlp-ae", opts, str(folder),
                                                 good.state))
    shown_step(qtbot, explorer, 4)
    np.testing.assert_allclose(explorer.latent_map.positions,
                               inference.encode(model, float_images(explorer)), atol=1e-6)

