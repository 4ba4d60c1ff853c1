"""Run a :class:`~aestudio.core.training.messages.TrainRequest` end to end.

This is the studio's training job, headless: build the job (a new model or a model file to
continue), set it up with :func:`~aestudio.core.training.setup.prepare_run`, then train with
:func:`~aestudio.core.training.trainer.fit`, reporting everything through one callback.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from aestudio.core import events as ev
from aestudio.core.data.records import ScanCancelled
from aestudio.core.events import EventCallback
from aestudio.core.models import get_entry
from aestudio.core.runtime.threads import leave_a_core_free
from aestudio.core.training import trainer
from aestudio.core.training.folders import folder_for_resume
from aestudio.core.training.job import TrainingJob, TrainResult, resume_job
from aestudio.core.training.messages import TrainRequest
from aestudio.core.training.setup import prepare_run


def job_for_request(request: TrainRequest) -> tuple[TrainingJob, bool]:
    """The :class:`TrainingJob` a request describes, and whether it resumes a model file.

    Parameters
    ----------
    request
        A new model, or ``resume_from`` a model file (with ``train_overrides``, and
        ``folder`` standing in for a stored data folder that no longer exists).
    """
    if request.resume_from:
        job = resume_job(request.resume_from, **request.train_overrides)
        folder = folder_for_resume(request.resume_from, job.data.folder, request.folder)
        job = replace(job, data=replace(job.data, folder=folder))
        resume = True
    else:
        out = Path(request.out).expanduser() if request.out else None
        job = TrainingJob(model=request.model, model_options=dict(request.model_options),
                          data=request.data, train=request.train, out=out)
        resume = False
    if get_entry(job.model).kind == "autoencoder" and request.snapshot_seconds > 0:
        # Weight copies for a view that follows the training (the live latent map).
        job = replace(job, train=replace(job.train, snapshot_seconds=request.snapshot_seconds))
    return job, resume


def run_request(
    request: TrainRequest,
    *,
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    pause: threading.Event | None = None,
) -> TrainResult | None:
    """Train as ``request`` says, leaving one CPU core free for an interactive program.

    Parameters
    ----------
    request
        What to train.
    on_event
        Called (in this thread) with every core event and the set-up's reports
        (:class:`~aestudio.core.training.messages.ResumeInfo`, ``DataReady``,
        ``RunArchitecture``).
    stop, pause
        As for :func:`~aestudio.core.training.trainer.fit`.

    Returns
    -------
    TrainResult or None
        None when stopped before the images were read (nothing was trained or written).
    """
    emit = on_event or (lambda event: None)
    stop = stop or threading.Event()
    job, resume = job_for_request(request)
    with leave_a_core_free():
        try:
            prepared = prepare_run(job, resume=resume, on_event=emit, stop=stop)
        except ScanCancelled:
            emit(ev.Finished("stopped", 0, None,
                             "stopped while reading the images; nothing was trained"))
            return None
        # Looked up on the module at call time, so that a replaced fit (tests) is used.
        return trainer.fit(prepared.job, prepared.data, on_event=emit, stop=stop, pause=pause,
                           resume=prepared.resume)
