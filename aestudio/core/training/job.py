"""What defines a training run (:class:`TrainingJob`), and the job a model file stores.

Torch-free at import, so that the studio can build jobs before the engine is loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.models.summary import read_model_summary

if TYPE_CHECKING:
    from aestudio.core.models.base import ImageModel


@dataclass(frozen=True)
class TrainingJob:
    """Everything that defines a training run.

    Attributes
    ----------
    model
        The registry name of the model.
    model_options
        Options of the model's config dataclass (channels and image size follow the data).
    data, train
        The data and training configurations.
    out
        The model file the run writes, or None to write nothing.
    init
        A model file (or a bundled model's name, ``photo``) whose weights the new model
        starts from: fine-tuning. Its architecture must be ``model``'s (see
        :func:`fine_tune_job`).
    """

    model: str
    model_options: dict[str, Any] = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out: Path | None = None
    init: str | None = None


@dataclass
class TrainResult:
    """How a run ended, with the trained model (in eval mode) and its loss history."""

    reason: str  # completed | stopped | time-budget | diverged
    step: int
    path: Path | None
    model: ImageModel
    history: dict[str, list[list[float]]]
    message: str
    val_loss: float | None = None


def resume_job(path: str | os.PathLike[str], **train_overrides: Any) -> TrainingJob:
    """The job stored in a model file, to continue it.

    Parameters
    ----------
    path
        The model file; the resumed run writes to it again.
    **train_overrides
        Training options to change, such as ``epochs``, ``max_minutes`` or ``device``.

    Raises
    ------
    aestudio.core.errors.ModelFileError
        When the file is not a readable model file.
    """
    summary = read_model_summary(path)
    train = replace(summary.train, **train_overrides) if train_overrides else summary.train
    return TrainingJob(model=summary.architecture, model_options=summary.model_config,
                       data=summary.data, train=train, out=Path(path))


def fine_tune_job(init: str | os.PathLike[str], data: DataConfig, train: TrainConfig,
                  out: Path | None, options: dict[str, Any] | None = None) -> TrainingJob:
    """A run that starts from the weights of the model file ``init`` (fine-tuning).

    The architecture and options are the file's; ``options`` may change those that leave
    the weights' shapes alone (``spacing``). A self-supervised run measures the spacing on
    its own images, as a new one does, unless ``options`` sets it.

    Raises
    ------
    aestudio.core.errors.ModelFileError
        When ``init`` is not a readable model file.
    """
    summary = read_model_summary(init)
    merged = dict(summary.model_config)
    if train.task == "self-supervised" and "spacing" in merged:
        merged["spacing"] = 0
    merged.update(options or {})
    return TrainingJob(model=summary.architecture, model_options=merged, data=data,
                       train=train, out=out, init=str(init))


def model_options(job: TrainingJob, kind: str, channels: int, size: int) -> dict[str, Any]:
    """The job's model options with the data's channels (and an autoencoder's image size).

    Parameters
    ----------
    job
        The run.
    kind
        The model's kind, ``"autoencoder"`` or ``"denoiser"``.
    channels, size
        What the loaded training data holds.
    """
    options = dict(job.model_options)
    options["channels"] = channels
    if kind == "autoencoder":  # fixed-size models take the data's side; denoisers take any
        options["image_size"] = size
    return options
