"""Progress events of every long job: small frozen dataclasses carrying CPU values only.

One protocol for every job (training, folder scans, encoding, batch denoising): the core
function takes ``on_event: EventCallback`` and a ``stop`` flag, and calls ``on_event`` with
these objects, throttled at the source. The CLI prints them, the GUI's workers forward them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the events module itself stays free of torch
    import torch


@dataclass(frozen=True)
class Loading:
    """Progress of reading the training images before the first step."""

    stage: str  # "scanning" or "decoding"
    done: int
    total: int


@dataclass(frozen=True)
class Started:
    """Training is about to run its first step (or continue from a model file)."""

    model: str
    device: str
    parameters: int
    n_train: int
    n_val: int
    steps_per_epoch: int
    total_steps: int | None  # None when only a time budget bounds the run
    start_step: int  # above 0 when resumed


@dataclass(frozen=True)
class Progress:
    """Throttled report of the optimisation (about 10 per second at most)."""

    step: int
    epoch: int
    fraction: float  # 0..1 of the planned run (steps or time budget)
    train_loss: float  # mean since the previous report
    lr: float
    images_per_s: float
    elapsed_s: float
    eta_s: float | None


@dataclass(frozen=True)
class Validated:
    """Loss on the held-out images, with seeded noise so figures repeat."""

    step: int
    epoch: int
    val_loss: float
    psnr: float | None = None  # output against the clean target, in dB


@dataclass(frozen=True)
class Samples:
    """A few validation inputs and outputs as float32 arrays (n, H, W, C) in [0, 1]."""

    step: int
    clean: np.ndarray
    noisy: np.ndarray | None
    output: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """A copy of an autoencoder's weights while it trains (``TrainConfig.snapshot_seconds``).

    ``state`` maps the model's state-dict keys to contiguous float32 CPU tensors that belong
    to the event alone: load them into a model of the same configuration to use it.
    """

    step: int
    state: dict[str, torch.Tensor]


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    step: int


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class Finished:
    """The run ended: completed, stopped, time-budget or diverged."""

    reason: str
    step: int
    path: str | None
    message: str


@dataclass(frozen=True)
class FileStarted:
    """A job that works file by file (batch denoising, encoding) began file ``index``."""

    index: int  # 0-based
    total: int
    path: str


@dataclass(frozen=True)
class FileProgress:
    """Part of one file is done (tiles of a large image)."""

    index: int
    done: int
    total: int


@dataclass(frozen=True)
class FileDone:
    """File ``index`` ended: written to ``output``, or skipped with a one-line ``error``."""

    index: int
    total: int
    path: str
    output: str | None
    error: str | None
    seconds: float
    note: str | None = None  # something the person should know, e.g. pages left out


Event = (Loading | Started | Progress | Validated | Samples | Snapshot | CheckpointSaved | Paused
         | Resumed | Finished | FileStarted | FileProgress | FileDone)

#: What a long core function calls with each event.
EventCallback = Callable[[object], None]
