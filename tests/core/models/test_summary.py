"""The model-file summary: read from the JSON description alone, forged files refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from aestudio.core.config import TrainConfig
from aestudio.core.errors import ModelFileError
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file
from aestudio.core.models.summary import describe_meta, read_model_meta, read_model_summary


def _saved(tmp_path: Path, **train: object) -> Path:
    model = create_model("denoiser", width=8, depth=1)
    state = {"step": 12, "epoch": 3, "elapsed_s": 90.0, "steps_per_epoch": 4,
             "history": {"train": [[1, 0.5], [12, 0.25]], "val": [[12, 0.3]]},
             "reason": "completed", "val_loss": 0.3}
    data = {"config": {"folder": "/data/photos", "patch": 32}, "channels": 1, "size": 32,
            "patch": 32, "bit_depth": 16, "labels": ["a", "b"], "n_train": 40, "n_val": 4}
    return save_model_file(tmp_path / "d.aemodel", model, data=data,
                           train=TrainConfig(task="denoise", noise="gaussian:15", **train),
                           training_state=state)


def test_summary_of_a_saved_model(tmp_path: Path) -> None:
    summary = read_model_summary(_saved(tmp_path, epochs=3))
    assert (summary.architecture, summary.kind) == ("denoiser", "denoiser")
    assert summary.model_config["width"] == 8 and summary.data.patch == 32
    assert summary.train.epochs == 3 and summary.noise == "gaussian:15"
    assert (summary.step, summary.epoch, summary.steps_per_epoch) == (12, 3, 4)
    assert summary.history["val"] == [[12, 0.3]] and summary.val_loss == 0.3
    assert summary.labels == ("a", "b") and summary.bit_depth == 16
    line = summary.one_line()
    assert line.startswith("d.aemodel · denoiser (unet, width 8, depth 1")
    assert line.endswith("· trained on gaussian:15") and "\n" not in line
    report = "\n".join(summary.report_lines())
    assert "denoiser (denoiser)" in report and "16-bit source" in report
    assert "12 steps, 3 epochs, 1.5 min (completed)" in report


def test_reading_a_summary_does_not_import_torch(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    code = ("import sys\n"
            "from aestudio.core.models.summary import read_model_summary\n"
            f"s = read_model_summary({str(path)!r})\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "print(s.architecture)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "denoiser"


def _forge(path: Path, meta: object) -> Path:
    save_file({"model.w": torch.zeros(2)}, str(path), metadata={"aestudio": json.dumps(meta)})
    return path


def test_forged_descriptions_are_refused_with_one_line(tmp_path: Path) -> None:
    good = read_model_meta(_saved(tmp_path))
    cases = {
        "not-a-dict": [1, 2],
        "foreign-format": {**good, "format": "someone-else"},
        "newer-schema": {**good, "schema_version": 99},
        "no-architecture": {k: v for k, v in good.items() if k != "architecture"},
        "unknown-train-key": {**good, "train": {**good["train"], "rm_rf": True}},
        "bad-step": {**good, "training_state": {"step": "many"}},
    }
    for name, meta in cases.items():
        path = _forge(tmp_path / f"{name}.aemodel", meta)
        with pytest.raises(ModelFileError) as info:
            read_model_summary(path)
        assert "\n" not in str(info.value) and path.name in str(info.value), name
    assert "newer aestudio" in str(pytest.raises(
        ModelFileError, read_model_summary, tmp_path / "newer-schema.aemodel").value)


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"\x00" * 16])
def test_garbage_is_not_a_model_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.aemodel"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="bad.aemodel"):
        read_model_summary(path)


def test_describe_meta_never_raises(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    meta = read_model_meta(path)
    assert describe_meta(path, meta) == read_model_summary(path).one_line()
    odd = {**meta, "train": {"rm_rf": True}}
    assert describe_meta(path, odd) == "d.aemodel · denoiser"
