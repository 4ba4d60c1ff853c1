"""Spaced sub-images: the split and merge, the denoiser that uses them, the automatic choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.data.noise import parse_noise
from aestudio.core.data.training_data import TrainingData, split_indices
from aestudio.core.denoise.apply import denoise_tensor
from aestudio.core.models import create_model
from aestudio.core.models.denoiser import merge_spaced, split_spaced
from aestudio.core.training.selfsupervised import SelfSupervisedTask
from aestudio.core.training.spacing import choose_spacing
from aestudio.core.training.trainer import TrainingJob
from tests.core.data.test_noise_estimate import box_blurred, scene


@pytest.mark.parametrize("spacing", [1, 2, 3, 4])
def test_split_then_merge_gives_the_images_back(spacing: int) -> None:
    x = torch.rand(2, 3, 12 * spacing, 8 * spacing)
    parts = split_spaced(x, spacing)
    assert parts.shape == (2 * spacing**2, 3, 12, 8)
    assert torch.equal(merge_spaced(parts, spacing), x)


def test_each_sub_image_holds_every_nth_pixel() -> None:
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    parts = split_spaced(x, 3)
    assert torch.equal(parts[0, 0], x[0, 0, 0::3, 0::3])
    assert torch.equal(parts[4, 0], x[0, 0, 1::3, 1::3])


@pytest.mark.parametrize("spacing", [2, 3, 4])
def test_a_spaced_denoiser_keeps_any_size_and_tiles_like_the_whole_image(spacing: int) -> None:
    torch.manual_seed(0)
    model = create_model("denoiser", channels=3, width=8, depth=2, spacing=spacing).eval()
    x = torch.rand(3, 101, 77)
    with torch.no_grad():
        whole = model(x[None])[0]
        tiled = denoise_tensor(model, x, tile=64, overlap=4 * model.reach,
                               mixed_precision=False)
    assert whole.shape == x.shape
    assert torch.allclose(tiled, whole, atol=1e-4)


def test_it_denoises_one_spacing_finer_than_it_trained_from_three_up() -> None:
    torch.manual_seed(0)
    model = create_model("denoiser", width=8, depth=2, spacing=3).eval()
    assert (model.spacing, model.denoise_spacing) == (3, 2)
    assert create_model("denoiser", spacing=2).denoise_spacing == 2
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        expected = merge_spaced(model.denoise_subimages(split_spaced(x, 2)), 2)
        assert torch.allclose(model(x), expected)


@pytest.mark.parametrize("method", ["neighbor2neighbor", "blind-spot"])
def test_self_supervised_loss_trains_a_spaced_denoiser(method: str) -> None:
    torch.manual_seed(0)
    model = create_model("denoiser", width=8, depth=2, spacing=2)
    task = SelfSupervisedTask("self-supervised", parse_noise("none"), method=method)
    noisy = torch.rand(2, 1, 36, 36)  # not a multiple of 2 * spacing: cropped
    loss, _ = task.loss(model, noisy, noisy, torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def _data(images: list[np.ndarray]) -> TrainingData:
    tensors = [torch.from_numpy(np.round(np.clip(i, 0, 1) * 255).astype(np.int32))
               .permute(2, 0, 1).contiguous() for i in images]
    train, val = split_indices(len(tensors), 0.0, 0)
    return TrainingData(images=tensors, scale=255.0, train_index=train, val_index=val,
                        patch=64)


def _job(task: str = "self-supervised", **options) -> TrainingJob:
    return TrainingJob(model="denoiser", model_options=options, data=DataConfig(patch=64),
                       train=TrainConfig(task=task))


def test_white_noise_keeps_neighbours_and_correlated_noise_gets_spacing() -> None:
    rng = np.random.default_rng(0)
    clean = scene()
    white = _data([clean + rng.normal(0, 12 / 255, clean.shape) for _ in range(3)])
    spread = _data([clean + box_blurred(rng.normal(0, 1, clean.shape)) * 12 / 255
                    for _ in range(3)])
    job, loaded, note = choose_spacing(_job(), white)
    assert job.model_options["spacing"] == 1
    assert "independent noise" in note
    job, loaded, note = choose_spacing(_job(), spread)
    assert job.model_options["spacing"] >= 2
    spacing = job.model_options["spacing"]
    assert f"pixels {spacing} apart" in note
    # Sub-images as large as the patches were, and as many pixels per step.
    assert loaded.patch == job.data.patch >= 64 * spacing - 2 * spacing
    assert job.train.batch_size == TrainConfig().batch_size // spacing**2


def test_the_choice_is_left_to_the_person_and_to_other_tasks() -> None:
    rng = np.random.default_rng(1)
    spread = _data([scene() + box_blurred(rng.normal(0, 1, (256, 256, 3))) * 12 / 255])
    job, loaded, note = choose_spacing(_job(spacing=1), spread)  # set by the person: kept
    assert job.model_options["spacing"] == 1 and note is None
    job, loaded, note = choose_spacing(_job("denoise"), spread)  # clean images: nothing to measure
    assert job.model_options["spacing"] == 1 and note is None
    job, loaded, note = choose_spacing(_job(), spread, resume=True)  # a file from before spacing
    assert job.model_options["spacing"] == 1 and note is None


def test_denoiser_files_from_before_spacing_keep_neighbours_and_unclipped_noise(tmp_path) -> None:
    import json

    from safetensors.torch import save_file

    from aestudio.core.models.modelfile import load_model_file, save_model_file
    from aestudio.core.models.summary import META_KEY, read_model_meta, read_model_summary

    model = create_model("denoiser", width=8, depth=2, spacing=1)
    path = save_model_file(tmp_path / "old.aemodel", model)
    meta = read_model_meta(path)
    meta["schema_version"] = 2
    meta["model_config"].pop("spacing")
    if isinstance(meta.get("train"), dict):
        meta["train"].pop("clip_noise", None)
    else:
        meta["train"] = {"task": "denoise", "noise": "gaussian:25"}
    tensors = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt", META_KEY: json.dumps(meta)})
    loaded = load_model_file(path)
    assert loaded.model.config.spacing == 1
    assert loaded.meta["train"]["clip_noise"] is False
    assert read_model_summary(path).train.clip_noise is False
    assert create_model("denoiser").config.spacing == 0  # new ones choose it
