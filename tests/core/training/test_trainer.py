"""The trainer: events, stop, pause, resume equal to an uninterrupted run, divergence."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.core import events as ev
from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.data.training_data import from_arrays, split_indices
from aestudio.core.models.modelfile import load_model_file, read_model_meta
from aestudio.core.training.tasks import Task
from aestudio.core.training.trainer import TrainingError, TrainingJob, fit, resume_job


def tiny_images(n: int = 48, size: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, 1, size, size), dtype=np.uint8)
    images[: n // 2, :, 2:6, 2:6] = 230
    images[n // 2:, :, :, 7:9] = 230
    return images


def job_for(out: Path | None, **train: object) -> TrainingJob:
    options = {"latent_dim": 2, "width": 4, "depth": 1, "hidden": 16}
    settings = {"epochs": 2, "batch_size": 8, "lr": 3e-3, "seed": 3, "device": "cpu", **train}
    config = TrainConfig(**settings)
    return TrainingJob(model="conv-ae", model_options=options, train=config, out=out)


def test_fit_reports_events_and_writes_a_model(tmp_path: Path) -> None:
    seen: list[object] = []
    data = from_arrays(tiny_images(), val_fraction=0.25)
    result = fit(job_for(tmp_path / "m.aemodel", sample_seconds=0.0), data, on_event=seen.append)
    # The neighbour graph (a conv-ae's default term) may report its building first.
    seen = [e for e in seen if not isinstance(e, ev.Loading)]
    kinds = [type(e) for e in seen]
    assert kinds[0] is ev.Started and kinds[-1] is ev.Finished
    assert ev.Progress in kinds and ev.Validated in kinds and ev.Samples in kinds
    started = seen[0]
    assert started.n_train == 36 and started.n_val == 12 and started.total_steps == 10
    samples = next(e for e in seen if isinstance(e, ev.Samples))
    assert samples.clean.shape == samples.output.shape == (8, 12, 12, 1)
    assert samples.noisy is None  # reconstruction shows no noisy row
    assert result.reason == "completed" and result.step == 10
    state = read_model_meta(result.path)["training_state"]
    assert state["step"] == 10 and len(state["history"]["val"]) == 2


def test_resumed_training_equals_uninterrupted(tmp_path: Path) -> None:
    data = from_arrays(tiny_images(), val_fraction=0.25)
    whole = fit(job_for(tmp_path / "whole.aemodel", epochs=3), data)

    stop = threading.Event()
    part = tmp_path / "part.aemodel"

    def stop_mid_run(event: object) -> None:  # stop in the middle of the second epoch
        if isinstance(event, ev.Progress) and event.step >= 7:
            stop.set()

    import aestudio.core.training.trainer as trainer

    old = trainer.PROGRESS_INTERVAL_S
    trainer.PROGRESS_INTERVAL_S = 0.0
    try:
        first = fit(job_for(part, epochs=3), data, on_event=stop_mid_run, stop=stop)
    finally:
        trainer.PROGRESS_INTERVAL_S = old
    assert first.reason == "stopped" and first.step == 7
    resumed = fit(job_for(part, epochs=3), data, resume=True)
    assert resumed.step == whole.step == 15
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key


def test_stop_is_honoured_within_a_batch_and_keeps_the_model(tmp_path: Path) -> None:
    stop = threading.Event()
    steps: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, ev.Started):
            stop.set()
        if isinstance(event, ev.Progress):
            steps.append(event.step)

    result = fit(job_for(tmp_path / "m.aemodel"), from_arrays(tiny_images()), on_event=on_event,
                 stop=stop)
    assert result.reason == "stopped" and result.step == 0 and not steps
    assert load_model_file(result.path).meta["training_state"]["reason"] == "stopped"


def test_a_run_stopped_before_its_first_step_leaves_the_file_it_would_replace(
        tmp_path: Path) -> None:
    out = tmp_path / "m.aemodel"
    data = from_arrays(tiny_images())
    fit(job_for(out, epochs=1), data)
    trained = out.read_bytes()
    stop = threading.Event()
    stop.set()  # a SIGTERM before the first step
    result = fit(job_for(out, epochs=1, seed=9), data, stop=stop)
    assert result.reason == "stopped" and result.step == 0 and result.path is None
    assert "left as it was" in result.message
    assert out.read_bytes() == trained


def test_pause_then_continue(tmp_path: Path) -> None:
    pause = threading.Event()
    seen: list[object] = []

    def on_event(event: object) -> None:
        seen.append(event)
        if isinstance(event, ev.Started):
            pause.set()
            threading.Timer(0.2, pause.clear).start()

    result = fit(job_for(None), from_arrays(tiny_images()), on_event=on_event, pause=pause)
    kinds = [type(e) for e in seen]
    assert ev.Paused in kinds and ev.Resumed in kinds and result.reason == "completed"


def test_diverging_loss_stops_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.aemodel"
    data = from_arrays(tiny_images())
    fit(job_for(out, epochs=1), data)
    good = out.read_bytes()
    original = Task.loss

    def poisoned(self, model, batch, noisy, generator):  # the loss turns NaN
        loss, parts = original(self, model, batch, noisy, generator)
        return loss * float("nan"), parts

    monkeypatch.setattr(Task, "loss", poisoned)
    result = fit(job_for(out, epochs=4), data, resume=True)
    assert result.reason == "diverged" and "lower learning rate" in result.message
    assert out.read_bytes() == good


def test_resume_without_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="cannot resume"):
        fit(job_for(tmp_path / "none.aemodel"), from_arrays(tiny_images()), resume=True)


def test_resume_job_reads_the_stored_job(tmp_path: Path) -> None:
    out = tmp_path / "m.aemodel"
    fit(job_for(out, epochs=1), from_arrays(tiny_images()))
    job = resume_job(out, epochs=5)
    assert job.model == "conv-ae" and job.train.epochs == 5 and job.train.seed == 3
    assert job.model_options["latent_dim"] == 2


def test_time_budget_ends_the_run() -> None:
    job = job_for(None, epochs=100_000, max_minutes=0.01)
    result = fit(job, from_arrays(tiny_images()))
    assert result.reason == "time-budget"


def test_denoiser_trains_on_patches_of_full_size_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (3, h, w), dtype=np.uint8) for h, w in [(40, 52), (33, 64)]]
    data = from_arrays(images, patch=16, val_fraction=0.5)
    job = TrainingJob(model="denoiser", model_options={"width": 8, "depth": 2},
                      train=TrainConfig(task="denoise", noise="gaussian:25", epochs=1,
                                        batch_size=4, patches_per_epoch=16, device="cpu"),
                      out=tmp_path / "d.aemodel")
    seen: list[object] = []
    result = fit(job, data, on_event=seen.append)
    assert result.reason == "completed" and result.step == 4
    samples = [e for e in seen if isinstance(e, ev.Samples)][-1]
    assert samples.noisy is not None and samples.clean.shape[1:] == (16, 16, 3)
    validated = [e for e in seen if isinstance(e, ev.Validated)][-1]
    assert validated.psnr is not None and np.isfinite(validated.psnr)


def test_sixteen_bit_data_keeps_its_precision() -> None:
    images = (np.arange(2 * 12 * 12, dtype=np.uint16).reshape(2, 1, 12, 12) * 97)
    data = from_arrays(images, val_fraction=0.0)
    batch = data.batch(torch.tensor([0, 1]), torch.Generator())
    expected = torch.from_numpy(images.astype(np.float32) / 65535)
    assert data.bit_depth == 16 and torch.allclose(batch, expected)


def test_split_is_seeded_and_disjoint() -> None:
    train, val = split_indices(50, 0.2, seed=1)
    assert len(val) == 10 and not set(train) & set(val)
    assert np.array_equal(val, split_indices(50, 0.2, seed=1)[1])
    assert len(split_indices(1, 0.5, 0)[0]) == 1


def test_fit_loads_a_folder(digit_folder: Path, tmp_path: Path) -> None:
    job = replace(job_for(tmp_path / "m.aemodel", epochs=1),
                  data=DataConfig(folder=str(digit_folder), size=16))
    seen: list[object] = []
    result = fit(job, on_event=seen.append)
    assert any(isinstance(e, ev.Loading) for e in seen)
    assert read_model_meta(result.path)["data"]["labels"] == ["0", "1"]
