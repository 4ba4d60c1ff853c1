"""The optimizer option: AdamW (the default), Adam and SGD all train, resume and are saved."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aestudio.cli import main
from aestudio.core.config import TrainConfig
from aestudio.core.errors import ConfigError
from aestudio.core.models.modelfile import load_model_file
from aestudio.core.training.optimizers import make_optimizer

TINY = ["--model", "conv-ae", "--latent-dim", "2", "--size", "16", "--batch-size", "8",
        "--device", "cpu", "--option", "width=4", "--option", "hidden=16", "--option", "depth=1"]


@pytest.mark.parametrize(("name", "kind"), [("adamw", torch.optim.AdamW),
                                            ("adam", torch.optim.Adam),
                                            ("sgd", torch.optim.SGD)])
def test_each_name_builds_its_optimizer(name, kind) -> None:
    weights = [torch.nn.Parameter(torch.zeros(3))]
    optimizer = make_optimizer(weights, TrainConfig(optimizer=name, lr=0.01))
    assert type(optimizer) is kind and optimizer.param_groups[0]["lr"] == 0.01


def test_an_unknown_optimizer_is_refused() -> None:
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")


def test_sgd_trains_is_saved_and_resumes(digit_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "sgd.aemodel"
    assert main(["train", str(digit_folder), *TINY, "--epochs", "2", "--optimizer", "sgd",
                 "--lr", "0.05", "--out", str(out)]) == 0
    loaded = load_model_file(out, with_optimizer=True)
    assert loaded.meta["train"]["optimizer"] == "sgd"
    assert "momentum_buffer" in next(iter(loaded.optimizer_state["state"].values()))
    history = loaded.training_state["history"]["train"]
    assert history[-1][1] < history[0][1]  # the loss fell
    assert main(["train", str(digit_folder), "--resume", "--epochs", "3",
                 "--out", str(out)]) == 0
    assert load_model_file(out).training_state["epoch"] >= 2
