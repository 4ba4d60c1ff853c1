"""Self-supervised denoising: the samplers, the masks, the losses and a short real run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.data.noise import parse_noise
from aestudio.core.models import create_model
from aestudio.core.training.selfsupervised import (
    SelfSupervisedTask,
    blind_spot_mask,
    neighbour_indices,
    neighbour_mean,
    subsample,
)
from aestudio.core.training.tasks import make_task
from aestudio.core.training.trainer import TrainingJob, fit


def _task(method: str = "neighbor2neighbor") -> SelfSupervisedTask:
    return SelfSupervisedTask("self-supervised", parse_noise("gaussian:25"), method=method)


def test_make_task_builds_the_self_supervised_task() -> None:
    task = make_task("self-supervised", "gaussian:25")
    assert isinstance(task, SelfSupervisedTask)
    assert task.method == "neighbor2neighbor"


def test_inputs_are_the_noisy_batch_itself() -> None:
    batch = torch.rand(2, 1, 8, 8)
    assert _task().inputs(batch, torch.Generator()) is batch


def test_neighbour_pairs_are_different_adjacent_pixels_of_each_cell() -> None:
    first, second = neighbour_indices(64, 6, 8, torch.Generator().manual_seed(0))
    assert first.shape == (64, 3, 4)
    dy = first // 2 - second // 2
    dx = first % 2 - second % 2
    assert torch.all(dy.abs() + dx.abs() == 1)  # 4-connected neighbours, never the same pixel
    assert set(first.unique().tolist()) == {0, 1, 2, 3}


def test_subsample_takes_the_indexed_pixel_of_every_cell_in_all_channels() -> None:
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).view(2, 3, 5, 7)  # odd sides
    index = torch.randint(4, (2, 2, 3), generator=torch.Generator().manual_seed(1))
    sub = subsample(x, index)
    assert sub.shape == (2, 3, 2, 3)
    for n in range(2):
        for i in range(2):
            for j in range(3):
                k = int(index[n, i, j])
                expected = x[n, :, 2 * i + k // 2, 2 * j + k % 2]
                assert torch.equal(sub[n, :, i, j], expected)


def test_blind_spot_mask_has_one_pixel_per_block() -> None:
    mask = blind_spot_mask((3, 1, 16, 12), torch.Generator().manual_seed(0))
    assert mask.shape == (3, 1, 16, 12)
    blocks = mask.view(3, 4, 4, 3, 4).sum(dim=(2, 4))
    assert torch.all(blocks == 1)


def test_neighbour_mean_leaves_out_the_centre() -> None:
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 8.0
    mean = neighbour_mean(x)
    assert mean[0, 0, 2, 2] == 0  # the pixel's own value never reaches its estimate
    assert mean[0, 0, 1, 1] == 1 and mean[0, 0, 2, 3] == 1


@pytest.mark.parametrize("method", ["neighbor2neighbor", "blind-spot"])
def test_loss_has_gradients_and_predict_is_the_plain_model(method: str) -> None:
    torch.manual_seed(0)
    model = create_model("denoiser", width=8, depth=2)
    noisy = torch.rand(2, 1, 16, 16)
    task = _task(method)
    loss, _ = task.loss(model, noisy, noisy, torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    with torch.no_grad():
        assert torch.equal(task.predict(model, noisy), model(noisy))


def test_neighbor2neighbor_regulariser_vanishes_for_the_identity() -> None:
    model = create_model("denoiser", width=8, depth=2)
    with torch.no_grad():
        model.net.out.weight.zero_()  # a residual network predicting no noise: the identity
    x = torch.rand(2, 1, 8, 8)
    _, parts = _task().loss(model, x, x, torch.Generator())
    assert float(parts["regulariser"]) == pytest.approx(0.0, abs=1e-12)


def test_autoencoders_are_refused() -> None:
    model = create_model("conv-ae", image_size=16)
    with pytest.raises(ValueError, match="full-resolution denoiser"):
        x = torch.rand(2, 1, 16, 16)
        _task().loss(model, x, x, torch.Generator())


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        _task("noise2magic")


def _noisy_folder(root: Path) -> Path:
    """Smooth shapes with strong Gaussian noise: there is no clean copy on disk."""
    rng = np.random.default_rng(0)
    root.mkdir()
    for i in range(3):
        y, x = np.mgrid[0:48, 0:40]
        clean = 0.5 + 0.3 * np.sin(x / (5 + i)) * np.cos(y / 7)
        noisy = clean + rng.normal(0, 0.1, clean.shape)
        Image.fromarray(np.clip(np.rint(noisy * 255), 0, 255).astype(np.uint8)).save(
            root / f"scan{i}.png")
    return root


def test_fit_learns_from_noisy_images_alone(tmp_path: Path) -> None:
    folder = _noisy_folder(tmp_path / "scans")
    job = TrainingJob(
        model="denoiser", model_options={"width": 8, "depth": 2},
        data=DataConfig(folder=str(folder), patch=32, val_fraction=0.0),
        train=TrainConfig(task="self-supervised", epochs=4, batch_size=4, lr=3e-3,
                          patches_per_epoch=32, device="cpu", sample_seconds=1e6),
        out=tmp_path / "ss.aemodel",
    )
    result = fit(job)
    assert result.reason == "completed" and result.path.is_file()
    losses = [loss for _, loss in result.history["train"]]
    assert np.isfinite(losses).all()
    # The network moved away from the identity it starts as: it removes something.
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert (result.model(x) - x).abs().mean() > 1e-4
