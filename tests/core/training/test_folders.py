"""A shared model file holds its folder's name, not its path; this computer remembers the path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors import safe_open

from aestudio.cli import main
from aestudio.core.errors import DatasetError
from aestudio.core.models.summary import META_KEY, read_model_summary
from aestudio.core.training.folders import folder_for_resume, recall_training_folder
from aestudio.core.training.messages import TrainRequest
from aestudio.core.training.run import run_request

TINY = ["--size", "16", "--epochs", "1", "--device", "cpu", "--batch-size", "8",
        "--option", "width=4", "--option", "hidden=16", "--option", "depth=1"]


@pytest.fixture
def trained(digit_folder: Path, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("AESTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "shared" / "m.aemodel"
    assert main(["train", str(digit_folder), "--out", str(out), *TINY]) == 0
    return out


def test_the_file_names_the_folder_but_not_its_path(trained: Path, digit_folder: Path,
                                                   capsys) -> None:
    with safe_open(str(trained), framework="pt") as handle:
        raw = handle.metadata()[META_KEY]
    assert str(digit_folder.parent) not in raw and "/" not in json.loads(raw)["data"]["config"][
        "folder"]
    assert read_model_summary(trained).data.folder == "digits"
    capsys.readouterr()
    assert main(["info", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "contains     weights, optimizer state" in out
    assert "the training folder's name" in out and str(digit_folder) not in out


def test_this_computer_resumes_without_asking(trained: Path, digit_folder: Path) -> None:
    assert recall_training_folder(trained) == str(digit_folder.resolve())
    result = run_request(TrainRequest(resume_from=str(trained), train_overrides={"epochs": 2}))
    assert result is not None and result.reason == "completed"


def test_another_computer_is_asked_for_the_folder(trained: Path, digit_folder: Path,
                                                  tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AESTUDIO_CACHE_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(DatasetError, match="trained on a folder named 'digits'"):
        run_request(TrainRequest(resume_from=str(trained)))
    assert folder_for_resume(trained, "digits", digit_folder) == str(digit_folder)
    result = run_request(TrainRequest(resume_from=str(trained), folder=str(digit_folder),
                                      train_overrides={"epochs": 2}))
    assert result is not None and result.reason == "completed"
