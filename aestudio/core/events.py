"""Events the trainer reports: small frozen dataclasses carrying CPU values only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


Event = Loading | Started | Progress | Validated | Samples | CheckpointSaved | Paused | Resumed | Finished
