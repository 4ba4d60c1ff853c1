"""A live map's refresh from a weight snapshot, and the explorer's decodes, without Qt."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.core.data.pca import fit_pca
from aestudio.core.data.records import ScanCancelled
from aestudio.core.errors import UserError
from aestudio.core.events import Snapshot
from aestudio.core.latent.codes import encode_folder
from aestudio.core.latent.decoding import (
    decode_codes,
    decode_grid,
    decode_path,
    grid_spacing,
    load_autoencoder,
    measure_decode_ms,
)
from aestudio.core.latent.grid import grid_codes, grid_mosaic
from aestudio.core.latent.live import (
    RefreshPlan,
    aligned_pca,
    encode_again,
    layout_matches,
    live_layout,
    reusable_codes,
    run_refresh,
)
from aestudio.core.latent.map import build_map
from aestudio.core.models import create_model, inference
from aestudio.core.models.modelfile import save_model_file
from aestudio.core.training.messages import LiveSnapshot, RunArchitecture
from tests.conftest import make_digit_folder

SIZE = 16
VAE = {"channels": 1, "image_size": SIZE, "latent_dim": 3, "width": 4, "depth": 1,
       "hidden": 16}


def float_images(data) -> torch.Tensor:
    return torch.from_numpy(np.asarray(data.images, np.float32) / data.scale)


def weights(seed: int, options: dict = VAE) -> tuple[dict, torch.nn.Module]:
    torch.manual_seed(seed)
    model = create_model("vae", **options).eval()
    return {k: v.clone() for k, v in model.state_dict().items()}, model


def plan(snapshot: LiveSnapshot, **changes) -> RefreshPlan:
    fields = {"run": snapshot.run, "step": snapshot.step, "state": snapshot.state,
              "model": None, "architecture": (snapshot.model, snapshot.options),
              "template": None, "base": None, "folder": snapshot.folder, "layout": "auto"}
    return RefreshPlan(**{**fields, **changes})


def test_a_snapshot_event_becomes_a_map_of_its_weights(tmp_path: Path) -> None:
    folder = make_digit_folder(tmp_path / "d", per_label=6, size=SIZE, labels=2)
    state, model = weights(1)
    architecture = RunArchitecture("vae", "autoencoder", VAE, str(folder))
    snapshot = LiveSnapshot.of(3, architecture, Snapshot(12, state))
    assert (snapshot.run, snapshot.step, snapshot.model) == (3, 12, "vae")
    first = run_refresh(plan(snapshot, measure=True))
    assert first.run == 3 and first.step == 12 and first.decode_ms > 0
    assert first.error_seconds is not None and first.latent_map.layout == "pca"
    codes = inference.encode(model, float_images(first.data))
    np.testing.assert_allclose(first.data.codes, codes, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first.latent_map.positions, fit_pca(codes).project(codes),
                               atol=1e-5)

    # The next snapshot: the template is reused, the images in memory encoded again, and
    # the weights may come as numpy arrays.
    state2, model2 = weights(2)
    numpy_state = {k: v.numpy() for k, v in state2.items()}
    second = run_refresh(plan(LiveSnapshot(3, 13, "vae", VAE, str(folder), numpy_state),
                              template=first.template, base=first.data, layout="pca",
                              previous_pca=first.latent_map.pca, with_errors=False))
    assert second.template is first.template and second.model is not first.model
    assert second.data.images is first.data.images and second.error_seconds is None
    assert second.data.errors is first.data.errors  # not decoded again
    codes2 = inference.encode(model2, float_images(second.data))
    pca = aligned_pca(codes2, first.latent_map.pca)
    np.testing.assert_allclose(second.latent_map.positions, pca.project(codes2), atol=1e-5)
    assert np.all(np.einsum("kd,kd->k", pca.components, first.latent_map.pca.components) >= 0)


def test_a_refresh_can_be_stopped_and_rejects_broken_weights(tmp_path: Path) -> None:
    folder = make_digit_folder(tmp_path / "d", per_label=4, size=SIZE, labels=2)
    state, _ = weights(0)
    snapshot = LiveSnapshot(1, 1, "vae", VAE, str(folder), state)
    stop = threading.Event()
    stop.set()
    with pytest.raises(ScanCancelled):
        run_refresh(plan(snapshot), stop)
    broken = dict(list(state.items())[1:])
    with pytest.raises(RuntimeError, match="state_dict"):
        run_refresh(plan(LiveSnapshot(1, 1, "vae", VAE, str(folder), broken)))


def test_codes_without_decoding_equal_those_of_a_full_encode(tmp_path: Path) -> None:
    folder = make_digit_folder(tmp_path / "digits", per_label=6, size=SIZE, labels=2)
    torch.manual_seed(0)
    data = encode_folder(create_model("vae", **VAE).eval(), folder)
    torch.manual_seed(1)
    other = create_model("vae", **VAE).eval()
    quick = encode_again(other, data, with_errors=False)
    full = encode_again(other, data)
    assert quick.images is data.images and full.images is data.images
    np.testing.assert_array_equal(quick.codes, full.codes)
    np.testing.assert_allclose(full.codes, encode_folder(other, folder).codes, atol=1e-6)
    # Without decoding, the errors and reconstructions are the earlier ones.
    assert quick.errors is data.errors and quick.reconstructions is data.reconstructions
    assert not np.allclose(full.errors, data.errors)
    assert quick.label_names == data.label_names
    assert reusable_codes(data, str(folder), 1, SIZE) is data
    assert reusable_codes(data, str(folder), 1, SIZE * 2) is None
    assert reusable_codes(data, str(tmp_path), 1, SIZE) is None


def test_live_layouts() -> None:
    codes = np.random.default_rng(0).normal(size=(50, 4)) * [4, 3, 2, 1]
    lm = live_layout(codes, "pca", axes=(1, 2), residual=True)
    assert layout_matches(lm, "pca", (1, 2), True)
    assert not layout_matches(lm, "pca", (0, 1), True)
    assert not layout_matches(lm, "codes", (0, 1), False)
    assert live_layout(codes[:, :2], "auto").layout == "codes"
    with pytest.raises(ValueError, match="codes or by PCA"):
        live_layout(codes, "tsne")


def test_decodes_of_a_point_a_grid_and_a_path(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=SIZE, latent_dim=2, width=4,
                         hidden=16).eval()
    codes = np.random.default_rng(1).normal(size=(30, 2)).astype(np.float32)
    lm = build_map(codes)
    point = np.array([[0.25, -0.5]], np.float32)
    np.testing.assert_array_equal(decode_codes(model, point), inference.decode(model, point))
    mosaic = decode_grid(model, lm, (-1, 1), (-1, 1), 3)
    expected = grid_mosaic(inference.decode(model, grid_codes(lm, (-1, 1), (-1, 1), 3)), 3)
    np.testing.assert_allclose(mosaic, expected, atol=1e-6)
    frames, path_codes, path = decode_path(model, lm, codes[0], codes[1],
                                           tuple(lm.positions[0]), tuple(lm.positions[1]), 5)
    assert frames.shape == (5, SIZE, SIZE, 1) and path_codes.shape == (5, 2)
    np.testing.assert_allclose(path[[0, -1]], lm.positions[:2], atol=1e-6)
    np.testing.assert_allclose(frames[0], inference.decode(model, codes[:1])[0], atol=1e-6)
    assert measure_decode_ms(model, repeats=2) > 0
    assert grid_spacing(model, lm) == "uniform"
    vae = create_model("vae", channels=1, image_size=SIZE, latent_dim=2, width=4, hidden=16)
    assert grid_spacing(vae, lm) == "prior"
    assert grid_spacing(vae, build_map(np.c_[codes, codes[:, :1]], "pca")) == "uniform"
    assert decode_grid(vae.eval(), lm, (-2, 2), (-2, 2), 4, "prior").shape == (64, 64, 1)

    path_file = save_model_file(tmp_path / "m.aemodel", model)
    loaded, decode_ms, name = load_autoencoder(str(path_file))
    assert loaded.latent_dim == 2 and decode_ms > 0 and name
    denoiser = create_model("denoiser", channels=1).eval()
    with pytest.raises(UserError, match="no latent code"):
        load_autoencoder(str(save_model_file(tmp_path / "d.aemodel", denoiser)))
