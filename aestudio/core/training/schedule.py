"""The run's clock-free arithmetic: the learning-rate schedule, seeded generators, curves."""

from __future__ import annotations

import math

import torch

#: Loss curves longer than this are thinned (every other old point dropped).
MAX_HISTORY = 4000


def lr_factor(fraction: float, step: int, total_steps: int | None, schedule: str) -> float:
    """Linear warm-up over the first steps, then cosine decay to 5 % of the peak.

    Parameters
    ----------
    fraction
        How much of the planned run is done, 0 to 1 (steps or time budget).
    step
        The step about to run.
    total_steps
        The planned steps (None when only a time budget bounds the run).
    schedule
        ``"cosine"`` or ``"constant"`` (warm-up only).
    """
    warmup = max(1, min(200, (total_steps or 4000) // 20))
    warm = min(1.0, (step + 1) / warmup)
    if schedule == "constant":
        return warm
    return warm * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, fraction))))


def seeded_generator(*parts: int) -> torch.Generator:
    """A CPU generator seeded by ``parts`` (e.g. seed, epoch): a resumed run draws the same."""
    seed = 0
    for part in parts:
        seed = (seed * 1_000_003 + int(part)) % (2**63 - 1)
    return torch.Generator().manual_seed(seed)


def thin_history(history: list[list[float]]) -> None:
    """Keep a curve bounded: drop every other old point when it grows too long (in place)."""
    if len(history) > MAX_HISTORY:
        del history[: MAX_HISTORY // 2 : 2]
