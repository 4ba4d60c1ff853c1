"""The training panel's background jobs: Qt-side glue over the engine's own functions.

Each job runs in a :class:`~aestudio.ui.common.workers.Worker` thread; the engine (and
torch) is imported there, never on the UI thread, so the window appears before torch loads.

- :func:`training_job`: :func:`aestudio.core.training.run.run_request` with the worker's
  stop and pause flags, its events sent through ``worker.emit_event``.
- :func:`environment_job`, :func:`warm_up_job`, :func:`summary_job`: describe the engine,
  warm it up, read a model file's summary.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from aestudio.core.training.messages import TrainRequest

if TYPE_CHECKING:
    from aestudio.core.models.summary import ModelSummary
    from aestudio.core.training.environment import EnvironmentInfo
    from aestudio.core.training.job import TrainResult
    from aestudio.ui.common.workers import Worker

__all__ = ["environment_job", "run_training", "summary_job", "training_job", "warm_up_job"]


def run_training(worker: Worker, request: TrainRequest) -> TrainResult | None:
    """Train as ``request`` says, reporting through ``worker`` (runs in the worker thread).

    Parameters
    ----------
    worker
        Its ``stop_event`` / ``pause_event`` control the run; every event goes through
        ``worker.emit_event``.
    request
        What to train.

    Returns
    -------
    TrainResult or None
        None when stopped before the images were loaded (nothing was trained or written).
    """
    from aestudio.core.training.run import run_request

    return run_request(request, on_event=worker.emit_event, stop=worker.stop_event,
                       pause=worker.pause_event)


def training_job(request: TrainRequest) -> Callable[[Worker], TrainResult | None]:
    """The job function for ``Worker(training_job(request), "training")``."""
    return partial(run_training, request=request)


def environment_job(_worker: Worker) -> EnvironmentInfo:
    """Describe the engine's models, devices and noise kinds (loads torch)."""
    from aestudio.core.training.environment import describe_environment

    return describe_environment()


def warm_up_job(_worker: Worker) -> None:
    """Pay torch's first-optimizer cost in the background."""
    from aestudio.core.training.environment import warm_up_engine

    warm_up_engine()


def summary_job(path: str) -> Callable[[Worker], ModelSummary]:
    """The job function reading the summary of model file ``path``."""

    def job(_worker: Worker) -> ModelSummary:
        from aestudio.core.models.summary import read_model_summary

        return read_model_summary(path)

    return job
