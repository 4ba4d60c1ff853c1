"""Fine-tuning: a run that starts from a model file's weights (``train --init``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.cli import main
from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.errors import ModelFileError
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import load_model_file, save_model_file
from aestudio.core.training.job import fine_tune_job
from aestudio.core.training.trainer import fit


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        image = np.clip(rng.normal(128, 30, (48, 48, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"{i}.png")
    return folder


@pytest.fixture
def start_file(tmp_path: Path) -> Path:
    torch.manual_seed(1)
    model = create_model("denoiser", channels=3, width=8, depth=2, planes=True, spacing=1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))  # away from any fresh initialisation
    return save_model_file(tmp_path / "start.aemodel", model,
                           train={"task": "denoise", "noise": "gaussian:25"})


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_model_file(path).model.state_dict()


def test_fine_tuning_starts_from_the_file_and_measures_its_own_spacing(photos, start_file,
                                                                       tmp_path):
    train = TrainConfig(task="self-supervised", epochs=1, lr=1e-6, batch_size=2, device="cpu")
    job = fine_tune_job(start_file, DataConfig(folder=str(photos), patch=32), train,
                        tmp_path / "tuned.aemodel")
    assert job.model == "denoiser" and job.model_options["width"] == 8
    assert job.model_options["spacing"] == 0  # measured again on the new photos
    result = fit(job)
    start, tuned = _weights(start_file), _weights(result.path)
    # A learning rate of 1e-6 hardly moves the weights: they are still the file's.
    assert all(torch.allclose(start[k], tuned[k], atol=1e-3) for k in start)
    # The same run without the file's weights ends elsewhere.
    fresh = fit(replace(job, init=None, out=tmp_path / "fresh.aemodel"))
    fresh_weights = _weights(fresh.path)
    assert not all(torch.allclose(start[k], fresh_weights[k], atol=1e-3) for k in start)


def test_options_that_change_the_weights_are_refused_in_one_line(photos, start_file, tmp_path):
    train = TrainConfig(task="self-supervised", epochs=1, batch_size=2, device="cpu")
    job = fine_tune_job(start_file, DataConfig(folder=str(photos), patch=32), train,
                        tmp_path / "tuned.aemodel", {"width": 16})
    with pytest.raises(ModelFileError, match="do not fit") as info:
        fit(job)
    assert "\n" not in str(info.value)


def test_the_command_line_fine_tunes_and_refuses_another_model(photos, start_file, tmp_path,
                                                               capsys):
    out = tmp_path / "cli.aemodel"
    assert main(["train", str(photos), "--init", str(start_file), "--task", "self-supervised",
                 "--epochs", "1", "--batch-size", "2", "--patch", "32", "--device", "cpu",
                 "--out", str(out)]) == 0
    assert load_model_file(out).model.config.width == 8
    assert main(["train", str(photos), "--init", str(start_file), "--model", "conv-ae",
                 "--out", str(tmp_path / "x.aemodel")]) == 2
    assert "--model conv-ae differs" in capsys.readouterr().err
