"""Two CPU processes under torchrun (gloo) write one model file whose loss fell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aestudio.core.models.modelfile import load_model_file


def test_torchrun_two_processes_train_one_model(digit_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp.aemodel"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "aestudio", "train", str(digit_folder),
               "--model", "conv-ae", "--latent-dim", "2", "--size", "16", "--epochs", "6",
               "--batch-size", "4", "--lr", "3e-3", "--device", "cpu", "--out", str(out),
               "--option", "width=8", "--option", "hidden=32", "--option", "depth=1"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stderr.count("model written to") == 1  # only rank 0 reports and saves
    loaded = load_model_file(out)
    state = loaded.training_state
    # 22 training images, 2 ranks x 4 per batch: 3 steps per epoch.
    assert state["steps_per_epoch"] == 3 and state["step"] == 18
    losses = [loss for _, loss in state["history"]["train"]]
    assert losses[-1] < losses[0]
