"""The training job: run synchronously, then in a real thread, then stopped mid-run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.core import events as ev
from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.models.modelfile import load_model_file
from aestudio.core.models.summary import read_model_summary
from aestudio.core.training.environment import EnvironmentInfo
from aestudio.core.training.messages import DataReady, ResumeInfo, TrainRequest
from aestudio.ui.common.workers import Worker
from aestudio.ui.training.worker import (
    environment_job,
    run_training,
    summary_job,
    training_job,
)

TINY_MLP = {"hidden": (16,), "latent_dim": 2}


def make_folder(root: Path, per_label: int = 20, size: int = 16) -> Path:
    """Random gray PNGs in two label folders."""
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_label):
            pixels = (rng.random((size, size)) * 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(root / label / f"{i:03d}.png")
    return root


@pytest.fixture
def isolated(tmp_path):
    """tests/ui/conftest.py points the models folder and the image cache into tmp_path."""
    return tmp_path


@pytest.fixture
def folder(isolated):
    return make_folder(isolated / "data")


def request_for(folder: Path, out: Path, epochs: int = 2, **train) -> TrainRequest:
    return TrainRequest(
        model="mlp-ae", model_options=dict(TINY_MLP),
        data=DataConfig(folder=str(folder), size=16, val_fraction=0.2),
        train=TrainConfig(epochs=epochs, batch_size=8, device="cpu", sample_seconds=0.0,
                          **train),
        out=str(out),
    )


def collect(worker: Worker) -> list:
    events: list = []
    worker.event.connect(events.append)
    return events


def test_job_runs_synchronously_and_writes_a_model(folder, isolated):
    out = isolated / "models" / "sync.aemodel"
    worker = Worker(training_job(request_for(folder, out)), "training")
    events = collect(worker)
    threads_before = torch.get_num_threads()
    result = run_training(worker, request_for(folder, out))
    assert torch.get_num_threads() == threads_before  # restored after the run
    kinds = [type(e) for e in events]
    for kind in (ev.Loading, DataReady, ev.Started, ev.Progress, ev.Validated, ev.Samples,
                 ev.CheckpointSaved, ev.Finished):
        assert kind in kinds, kind
    ready = next(e for e in events if isinstance(e, DataReady))
    assert (ready.n_train, ready.n_val, ready.channels, ready.skipped_count) == (32, 8, 1, 0)
    finished = events[-1]
    assert isinstance(finished, ev.Finished) and finished.reason == "completed"
    assert result.reason == "completed" and Path(finished.path) == out
    loaded = load_model_file(out)
    assert loaded.name == "mlp-ae" and loaded.model.image_size == 16
    summary = read_model_summary(out)
    assert summary.architecture == "mlp-ae" and summary.step == result.step
    assert summary.history["train"] and summary.history["val"]
    assert summary.train.epochs == 2 and summary.data.size == 16


def test_worker_run_reports_skipped_files(folder, isolated):
    (folder / "a" / "broken.png").write_bytes(b"this is not a png")
    worker = Worker(training_job(request_for(folder, isolated / "m.aemodel", epochs=1)))
    events = collect(worker)
    done: list = []
    worker.succeeded.connect(done.append)
    worker.run()
    assert done and done[0].reason == "completed"
    ready = next(e for e in events if isinstance(e, DataReady))
    assert ready.skipped_count == 1
    assert ready.skipped[0][0].endswith("broken.png") and ready.skipped[0][1]


def test_job_runs_in_a_thread_through_the_pool(qtbot, pool, folder, isolated):
    out = isolated / "models" / "thread.aemodel"
    worker = Worker(training_job(request_for(folder, out)), "training")
    events = collect(worker)  # appended in the worker thread: the worker lives there
    pool.start(worker)
    qtbot.waitUntil(lambda: not pool.running(), timeout=60_000)
    assert any(isinstance(e, ev.Progress) for e in events)
    assert any(isinstance(e, ev.Samples) for e in events)
    finished = [e for e in events if isinstance(e, ev.Finished)]
    assert len(finished) == 1 and finished[0].reason == "completed"
    assert load_model_file(out).name == "mlp-ae"


def test_stop_mid_run_keeps_the_model(qtbot, pool, folder, isolated):
    out = isolated / "models" / "stopped.aemodel"
    worker = Worker(training_job(request_for(folder, out, epochs=5000)), "training")
    events = collect(worker)
    pool.start(worker)
    qtbot.waitUntil(lambda: any(isinstance(e, ev.Progress) for e in events), timeout=60_000)
    worker.request_stop()
    qtbot.waitUntil(lambda: not pool.running(), timeout=30_000)
    finished = [e for e in events if isinstance(e, ev.Finished)]
    assert finished and finished[0].reason == "stopped"
    assert finished[0].step < 5000 * 4
    assert out.is_file() and load_model_file(out).name == "mlp-ae"


def test_stop_before_loading_trains_nothing(folder, isolated):
    out = isolated / "models" / "never.aemodel"
    worker = Worker(training_job(request_for(folder, out)))
    events = collect(worker)
    worker.stop_event.set()
    assert run_training(worker, request_for(folder, out)) is None
    assert isinstance(events[-1], ev.Finished) and events[-1].reason == "stopped"
    assert events[-1].path is None and not out.exists()


def test_pause_then_continue(qtbot, pool, folder, isolated):
    worker = Worker(training_job(request_for(folder, isolated / "p.aemodel", epochs=5000)))
    events = collect(worker)
    pool.start(worker)
    qtbot.waitUntil(lambda: any(isinstance(e, ev.Progress) for e in events), timeout=60_000)
    worker.pause_event.set()
    qtbot.waitUntil(lambda: any(isinstance(e, ev.Paused) for e in events), timeout=10_000)
    paused_at = next(e for e in events if isinstance(e, ev.Paused)).step
    qtbot.wait(300)
    steps = [e.step for e in events if isinstance(e, ev.Progress)]
    assert max(steps) <= paused_at
    worker.pause_event.clear()
    qtbot.waitUntil(lambda: any(isinstance(e, ev.Progress) and e.step > paused_at
                                for e in events), timeout=10_000)
    assert any(isinstance(e, ev.Resumed) for e in events)
    worker.request_stop()
    qtbot.waitUntil(lambda: not pool.running(), timeout=30_000)


def test_resume_continues_the_model_file(folder, isolated):
    out = isolated / "models" / "resume.aemodel"
    first = run_training(Worker(training_job(request_for(folder, out, epochs=1))),
                         request_for(folder, out, epochs=1))
    request = TrainRequest(resume_from=str(out), train_overrides={"epochs": 2})
    worker = Worker(training_job(request))
    events = collect(worker)
    second = run_training(worker, request)
    info = next(e for e in events if isinstance(e, ResumeInfo))
    assert info.step == first.step and info.history["train"]
    started = next(e for e in events if isinstance(e, ev.Started))
    assert started.start_step == first.step
    assert second.step == 2 * first.step
    assert read_model_summary(out).step == second.step


def test_resume_uses_the_given_folder_when_the_stored_one_is_gone(folder, isolated):
    out = isolated / "models" / "moved.aemodel"
    run_training(Worker(training_job(request_for(folder, out, epochs=1))),
                 request_for(folder, out, epochs=1))
    moved = folder.rename(isolated / "moved-data")
    request = TrainRequest(resume_from=str(out), train_overrides={"epochs": 2},
                           folder=str(moved))
    worker = Worker(training_job(request))
    events = collect(worker)
    assert run_training(worker, request).reason == "completed"
    assert next(e for e in events if isinstance(e, ResumeInfo)).folder == str(moved)


def test_a_folder_without_images_fails_readably(isolated):
    empty = isolated / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    worker = Worker(training_job(request_for(empty, isolated / "x.aemodel")))
    failures: list = []
    worker.failed.connect(lambda message, details: failures.append((message, details)))
    worker.run()
    assert failures
    message, details = failures[0]
    assert "no images" in message and not message.startswith("DatasetError")
    assert details == ""  # an expected failure carries no traceback


def test_environment_and_summary_jobs_run_in_a_worker(folder, isolated):
    done: list = []
    worker = Worker(environment_job, "engine-start")
    worker.succeeded.connect(done.append)
    worker.run()
    assert isinstance(done[0], EnvironmentInfo) and done[0].models
    out = isolated / "models" / "summary.aemodel"
    run_training(Worker(training_job(request_for(folder, out, epochs=1))),
                 request_for(folder, out, epochs=1))
    worker = Worker(summary_job(str(out)), "model-summary")
    worker.succeeded.connect(done.append)
    worker.run()
    assert done[1].architecture == "mlp-ae" and done[1].path == str(out)
