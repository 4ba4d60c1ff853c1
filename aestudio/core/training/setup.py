"""The set-up every training run shares: check the job, pick the device, read the images.

The command line, the studio's training job and :func:`aestudio.core.training.trainer.fit`
(when it is given no data) all start a run with :func:`prepare_run`, so that a bad device,
a missing model file or an empty folder fail the same way everywhere, before any training.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from aestudio.core import events as ev
from aestudio.core.data.training_data import TrainingData, load_training_data
from aestudio.core.errors import TrainingError
from aestudio.core.events import EventCallback
from aestudio.core.io.outputs import check_output_file
from aestudio.core.models import get_entry, make_config
from aestudio.core.models.memory import check_training_memory
from aestudio.core.models.summary import read_model_summary
from aestudio.core.runtime.device import resolve_device
from aestudio.core.training.job import TrainingJob, model_options
from aestudio.core.training.messages import (
    MAX_SKIPPED_REPORTED,
    DataReady,
    ResumeInfo,
    RunArchitecture,
)
from aestudio.core.training.spacing import choose_spacing
from aestudio.core.training.tasks import make_task


@dataclass(frozen=True)
class PreparedRun:
    """A run ready for :func:`~aestudio.core.training.trainer.fit`.

    Attributes
    ----------
    job
        The run.
    data
        Its training images, in memory.
    kind
        The model's kind, ``"autoencoder"`` or ``"denoiser"``.
    device
        The device the job's ``device`` option names here.
    resume
        True when the run continues ``job.out``.
    resumed
        What the continued file holds (step, loss history), or None for a new model.
    """

    job: TrainingJob
    data: TrainingData
    kind: str
    device: torch.device
    resume: bool
    resumed: ResumeInfo | None

    def data_ready(self) -> DataReady:
        """What was read: image counts, channels, bit depth, skipped files and notes."""
        d = self.data
        skipped = tuple((str(s.path), s.reason) for s in d.skipped)
        return DataReady(str(self.job.data.folder), d.n_train, d.n_val, d.channels,
                         d.bit_depth, skipped[:MAX_SKIPPED_REPORTED], len(skipped),
                         tuple(d.notes))

    def architecture(self) -> RunArchitecture:
        """What rebuilds the run's model (its options with the data's channels and size)."""
        options = model_options(self.job, self.kind, self.data.channels, self.data.size)
        return RunArchitecture(self.job.model, self.kind, options, str(self.job.data.folder))


def check_resumable(job: TrainingJob) -> Path:
    """The model file a resumed ``job`` continues.

    Raises
    ------
    TrainingError
        When ``job.out`` is not an existing file.
    """
    if job.out is None or not Path(job.out).is_file():
        raise TrainingError(f"cannot resume: no model file at {job.out}")
    return Path(job.out)


def _check_memory_early(job: TrainingJob, kind: str) -> int:
    """Refuse a run that cannot fit in memory; return its weights' bytes."""
    # The folder's channels are not known yet: 1 (the least) never refuses a run that fits.
    channels = job.data.channels or 1
    side = job.data.size if kind == "autoencoder" else job.data.patch
    options = model_options(job, kind, channels, job.data.size)
    return check_training_memory(job.model, get_entry(job.model).cls,
                                 make_config(job.model, options),
                                 batch_size=job.train.batch_size,
                                 image_shape=(channels, side, side))


def prepare_run(
    job: TrainingJob,
    *,
    resume: bool = False,
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
) -> PreparedRun:
    """Check ``job``, resolve its device and read its images, reporting as it goes.

    Parameters
    ----------
    job
        The run to set up.
    resume
        Continue the model file ``job.out``: its step and loss history are reported first
        (:class:`~aestudio.core.training.messages.ResumeInfo`).
    on_event
        Called with :class:`~aestudio.core.events.Loading` events while the folder is
        scanned and decoded, then with :class:`~aestudio.core.training.messages.DataReady`
        and :class:`~aestudio.core.training.messages.RunArchitecture`.
    stop
        Set it from any thread to cancel the reading.

    Returns
    -------
    PreparedRun
        The job with its data, device and kind.

    Raises
    ------
    aestudio.core.errors.ConfigError, aestudio.core.errors.NoiseSpecError
        An unknown model, a device this machine lacks or a bad noise spec (before any
        image is read).
    aestudio.core.errors.DatasetError
        A missing folder or one without usable images.
    aestudio.core.errors.TrainingError
        ``resume`` without an existing model file.
    OSError
        The model file cannot be written (a read-only or full disk, a folder in its place).
    aestudio.core.data.records.ScanCancelled
        When ``stop`` was set before the images were in memory.
    """
    emit = on_event or (lambda event: None)
    kind = get_entry(job.model).kind
    device = resolve_device(job.train.device)
    # A bad noise spec fails here, not later.
    make_task(job.train.task, job.train.noise, job.train.method)
    weights = _check_memory_early(job, kind)
    if job.out is not None:
        # Before any image is read: a run must never train for an hour, then fail to save.
        # The file holds the weights and Adam's two moments.
        check_output_file(job.out, inputs=[job.data.folder] if job.data.folder else [],
                          size_hint=3 * weights)
    resumed = None
    if resume:
        summary = read_model_summary(check_resumable(job))
        resumed = ResumeInfo(summary.path, summary.step, str(job.data.folder), job.train.task,
                             summary.history)
        emit(resumed)
    data = load_training_data(
        job.data, patches=kind == "denoiser", seed=job.train.seed, stop=stop,
        progress=lambda stage, done, total: emit(ev.Loading(stage, done, total)),
    )
    job, data, note = choose_spacing(job, data, resume=resume)
    if note:
        data = replace(data, notes=(*data.notes, note))
    prepared = PreparedRun(job, data, kind, device, resume, resumed)
    emit(prepared.data_ready())
    emit(prepared.architecture())
    return prepared
