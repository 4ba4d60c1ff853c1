"""The jobs the training panel runs in worker threads.

Nothing here imports torch at module level: the window must appear before torch is loaded,
so the engine modules are imported inside the job functions, which run in worker threads.

- :func:`describe_environment`: the model registry, the devices and the noise kinds.
- :func:`read_model_summary`: what an opened model file says about its training.
- :func:`run_training`: load the images, then :func:`aestudio.core.training.trainer.fit`, reporting
  core events (and :class:`DataReady` / :class:`ResumeInfo` / :class:`RunArchitecture`)
  through ``worker.emit_event``. Autoencoder runs also report a copy of their weights about
  once a second (:class:`~aestudio.core.events.Snapshot`), for the live latent map.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aestudio.core import events as ev
from aestudio.core.config import DataConfig, TrainConfig

if TYPE_CHECKING:
    from aestudio.core.training.trainer import TrainResult
    from aestudio.ui.common.workers import Worker

MAX_SKIPPED_REPORTED = 50
# Seconds between weight snapshots of an autoencoder run (the latent map follows them).
LIVE_SNAPSHOT_SECONDS = 1.0


@dataclass(frozen=True)
class ModelChoice:
    """A registered model as the panel lists it."""

    name: str
    kind: str  # "autoencoder" or "denoiser"
    summary: str
    config_cls: type


@dataclass(frozen=True)
class EnvironmentInfo:
    """What the panel fills its lists from once torch is loaded."""

    models: tuple[ModelChoice, ...]
    devices: dict[str, bool]  # device name -> available here
    auto_device: str  # what "auto" picks, in words
    noise_kinds: tuple[str, ...]
    noise_syntax: dict[str, str]


@dataclass(frozen=True)
class ModelSummary:
    """The parts of a model file's description the panel shows and resumes from."""

    path: str
    architecture: str
    kind: str
    model_config: dict[str, Any]
    data: DataConfig
    train: TrainConfig
    step: int
    steps_per_epoch: int | None
    history: dict[str, list[list[float]]]
    reason: str
    val_loss: float | None


@dataclass(frozen=True)
class TrainRequest:
    """A training run the panel asks for: a new model, or a model file to continue.

    For a new model, ``model`` / ``model_options`` / ``data`` / ``train`` / ``out`` define
    the run. With ``resume_from`` the job stored in that file is continued instead, with
    ``train_overrides`` applied to its training options; ``folder`` replaces the stored data
    folder when that one no longer exists.
    """

    model: str = ""
    model_options: dict[str, Any] = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out: str | None = None
    resume_from: str | None = None
    train_overrides: dict[str, Any] = field(default_factory=dict)
    folder: str | None = None
    snapshot_seconds: float = LIVE_SNAPSHOT_SECONDS  # autoencoders only; 0: none


@dataclass(frozen=True)
class DataReady:
    """The training images are in memory; reports what was used and what was skipped."""

    folder: str
    n_train: int
    n_val: int
    channels: int
    bit_depth: int
    skipped: tuple[tuple[str, str], ...]  # (path, reason), at most MAX_SKIPPED_REPORTED
    skipped_count: int
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RunArchitecture:
    """The model a run trains, as ``create_model(model, **options)`` rebuilds it.

    ``options`` include the channels and image size the data gave (as the trainer's
    ``build_model`` sets them); ``folder`` is the run's image folder.
    """

    model: str
    kind: str
    options: dict[str, Any]
    folder: str


@dataclass(frozen=True)
class LiveSnapshot:
    """A run's weights at one step, for views that follow the training (the latent map).

    ``run`` tells runs apart (it grows with each run a panel starts); ``state`` is the
    engine's :class:`~aestudio.core.events.Snapshot` state: CPU tensors owned by it.
    """

    run: int
    step: int
    model: str
    options: dict[str, Any]
    folder: str
    state: dict[str, Any]


@dataclass(frozen=True)
class ResumeInfo:
    """A run continues a model file: its earlier loss history, for the curves."""

    path: str
    step: int
    folder: str
    task: str
    history: dict[str, list[list[float]]]


def describe_environment() -> EnvironmentInfo:
    """Import the engine (and torch) and describe the models, devices and noise kinds.

    Returns
    -------
    EnvironmentInfo
        Plain values the UI thread fills its combo boxes from.
    """
    from aestudio.core.data.noise import NOISE_KINDS, NOISE_SYNTAX
    from aestudio.core.models import list_models
    from aestudio.core.runtime.device import (
        cuda_available,
        describe_device,
        mps_available,
        resolve_device,
    )

    models = tuple(ModelChoice(e.name, e.kind, e.summary, e.config_cls) for e in list_models())
    devices = {"auto": True, "cpu": True, "cuda": cuda_available(), "mps": mps_available()}
    return EnvironmentInfo(models, devices, describe_device(resolve_device("auto")),
                           tuple(NOISE_KINDS), dict(NOISE_SYNTAX))


def warm_up_engine() -> None:
    """Build one optimizer, in a worker thread: torch imports its compiler machinery lazily on
    the first (seconds), and paying that in the background makes the first Start quicker."""
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])


def read_model_summary(path: str | os.PathLike[str]) -> ModelSummary:
    """Read a model file's description (not its weights).

    Raises
    ------
    aestudio.core.models.modelfile.ModelFileError
        One line saying why the file cannot be used.
    """
    from aestudio.core.config import from_dict
    from aestudio.core.models.modelfile import ModelFileError, read_model_meta

    meta = read_model_meta(path)
    try:
        data = from_dict(DataConfig, meta.get("data", {}).get("config", {}))
        train = from_dict(TrainConfig, meta.get("train") or {})
        state = meta.get("training_state") or {}
        history = {k: [list(p) for p in v] for k, v in (state.get("history") or {}).items()}
        return ModelSummary(
            path=str(path), architecture=meta["architecture"], kind=meta.get("kind", ""),
            model_config=dict(meta.get("model_config") or {}), data=data, train=train,
            step=int(state.get("step", 0)), steps_per_epoch=state.get("steps_per_epoch"),
            history=history, reason=str(state.get("reason", "")),
            val_loss=state.get("val_loss"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        name = Path(path).name
        raise ModelFileError(f"{name}: unreadable training description ({exc})") from None


@contextlib.contextmanager
def leave_a_core_free() -> Iterator[int]:
    """Let torch use all cores but one while training, so the UI thread stays responsive.

    Yields the thread count in force; the previous count is restored afterwards.
    """
    import torch

    previous = torch.get_num_threads()
    threads = max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(previous)


def _build_job(request: TrainRequest, emit: Callable[[object], None]) -> tuple[Any, bool]:
    """The core TrainingJob for ``request`` and whether it resumes a model file."""
    from aestudio.core.training.trainer import TrainingJob, resume_job

    if request.resume_from:
        job = resume_job(request.resume_from, **request.train_overrides)
        if request.folder and not Path(job.data.folder).expanduser().is_dir():
            job = replace(job, data=replace(job.data, folder=request.folder))
        summary = read_model_summary(request.resume_from)
        emit(ResumeInfo(str(request.resume_from), summary.step, job.data.folder,
                        job.train.task, summary.history))
        return job, True
    out = Path(request.out).expanduser() if request.out else None
    job = TrainingJob(model=request.model, model_options=dict(request.model_options),
                      data=request.data, train=request.train, out=out)
    return job, False


def run_training(worker: Worker, request: TrainRequest) -> TrainResult | None:
    """Train as ``request`` says, reporting through ``worker`` (runs in the worker thread).

    Parameters
    ----------
    worker
        Its ``stop_event`` / ``pause_event`` control the run; every core event and the
        :class:`DataReady` / :class:`ResumeInfo` reports go through ``worker.emit_event``.
    request
        What to train.

    Returns
    -------
    TrainResult or None
        None when stopped before the images were loaded (nothing was trained or written).
    """
    from aestudio.core.data.records import ScanCancelled
    from aestudio.core.data.training_data import load_training_data
    from aestudio.core.models import get_entry
    from aestudio.core.training.trainer import fit

    emit = worker.emit_event
    job, resume = _build_job(request, emit)
    kind = get_entry(job.model).kind
    patches = kind == "denoiser"
    if kind == "autoencoder" and request.snapshot_seconds > 0:
        job = replace(job, train=replace(job.train, snapshot_seconds=request.snapshot_seconds))
    with leave_a_core_free():
        try:
            data = load_training_data(
                job.data, patches=patches, seed=job.train.seed, stop=worker.stop_event,
                progress=lambda stage, done, total: emit(ev.Loading(stage, done, total)),
            )
        except ScanCancelled:
            emit(ev.Finished("stopped", 0, None,
                             "stopped while reading the images; nothing was trained"))
            return None
        skipped = tuple((str(s.path), s.reason) for s in data.skipped)
        emit(DataReady(str(job.data.folder), data.n_train, data.n_val, data.channels,
                       data.bit_depth, skipped[:MAX_SKIPPED_REPORTED], len(skipped),
                       tuple(data.notes)))
        emit(run_architecture(job, kind, data.channels, data.size))
        return fit(job, data, on_event=emit, stop=worker.stop_event, pause=worker.pause_event,
                   resume=resume)


def run_architecture(job: Any, kind: str, channels: int, size: int) -> RunArchitecture:
    """What rebuilds ``job``'s model: its options with the data's channels (and, for an
    autoencoder, image size), as :func:`aestudio.core.training.trainer.build_model` sets them."""
    options = dict(job.model_options)
    options["channels"] = channels
    if kind == "autoencoder":
        options["image_size"] = size
    return RunArchitecture(job.model, kind, options, str(job.data.folder))


def training_job(request: TrainRequest) -> Callable[[Worker], TrainResult | None]:
    """The job function for ``Worker(training_job(request), "training")``."""
    return partial(run_training, request=request)
