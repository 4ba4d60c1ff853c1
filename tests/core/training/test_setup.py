"""The shared run set-up: Loading events, stop, refusals before training; the request run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aestudio.core import events as ev
from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.data.records import ScanCancelled
from aestudio.core.errors import ConfigError, DatasetError, NoiseSpecError, TrainingError
from aestudio.core.models.summary import read_model_summary
from aestudio.core.training.messages import DataReady, ResumeInfo, RunArchitecture, TrainRequest
from aestudio.core.training.run import run_request
from aestudio.core.training.setup import prepare_run
from aestudio.core.training.trainer import TrainingJob

TINY = {"hidden": (16,), "latent_dim": 2}


def job_for(folder: Path, out: Path | None = None, **train: object) -> TrainingJob:
    settings = {"epochs": 1, "batch_size": 8, "device": "cpu", "sample_seconds": 0.0, **train}
    return TrainingJob(model="mlp-ae", model_options=dict(TINY),
                       data=DataConfig(folder=str(folder), size=16, val_fraction=0.2),
                       train=TrainConfig(**settings), out=out)


def test_prepare_reads_the_folder_with_loading_events(digit_folder: Path) -> None:
    seen: list[object] = []
    prepared = prepare_run(job_for(digit_folder), on_event=seen.append)
    loading = [e for e in seen if isinstance(e, ev.Loading)]
    assert loading and {e.stage for e in loading} >= {"decoding"}
    assert loading[-1].done == loading[-1].total
    ready = next(e for e in seen if isinstance(e, DataReady))
    assert ready.n_train + ready.n_val == 24 and ready.channels == 1
    arch = next(e for e in seen if isinstance(e, RunArchitecture))
    assert arch.options["image_size"] == 16 and arch.options["channels"] == 1
    assert prepared.kind == "autoencoder" and prepared.device.type == "cpu"
    assert not prepared.resume and prepared.resumed is None


def test_prepare_honours_stop(digit_folder: Path) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(ScanCancelled):
        prepare_run(job_for(digit_folder), stop=stop)


def test_prepare_refuses_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(DatasetError):
        prepare_run(job_for(empty))


def test_prepare_refuses_bad_choices_before_reading(digit_folder: Path, tmp_path: Path) -> None:
    seen: list[object] = []
    with pytest.raises(TrainingError, match="cannot resume"):
        prepare_run(job_for(digit_folder, tmp_path / "none.aemodel"), resume=True,
                    on_event=seen.append)
    with pytest.raises(NoiseSpecError):
        prepare_run(job_for(digit_folder, task="denoise", noise="gaussian:lots"),
                    on_event=seen.append)
    with pytest.raises(ConfigError):
        prepare_run(job_for(digit_folder, device="no-such-device"), on_event=seen.append)
    assert seen == []  # nothing was read


def test_run_request_trains_and_resumes(digit_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.aemodel"
    job = job_for(digit_folder)
    request = TrainRequest(model=job.model, model_options=job.model_options, data=job.data,
                           train=job.train, out=str(out))
    first = run_request(request)
    assert first is not None and first.reason == "completed" and out.is_file()
    seen: list[object] = []
    again = TrainRequest(resume_from=str(out), train_overrides={"epochs": 2})
    second = run_request(again, on_event=seen.append)
    info = next(e for e in seen if isinstance(e, ResumeInfo))
    assert info.step == first.step and info.history["train"]
    assert second is not None and second.step == 2 * first.step
    assert read_model_summary(out).step == second.step
    # Autoencoder runs report their weights for a live map.
    assert any(isinstance(e, ev.Snapshot) for e in seen)


def test_run_request_stopped_while_reading_trains_nothing(digit_folder: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "never.aemodel"
    job = job_for(digit_folder)
    request = TrainRequest(model=job.model, model_options=job.model_options, data=job.data,
                           train=job.train, out=str(out))
    stop = threading.Event()
    stop.set()
    seen: list[object] = []
    assert run_request(request, on_event=seen.append, stop=stop) is None
    assert isinstance(seen[-1], ev.Finished) and seen[-1].reason == "stopped"
    assert not out.exists()


def test_the_self_supervised_method_is_an_option(tmp_path: Path) -> None:
    from aestudio.core.training.tasks import make_task

    assert make_task("self-supervised", "none", "blind-spot").method == "blind-spot"
    assert TrainConfig().method == "neighbor2neighbor"
    with pytest.raises(ConfigError, match="method must be one of"):
        TrainConfig(method="noise2noise")
