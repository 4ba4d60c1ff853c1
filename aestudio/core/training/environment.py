"""What the engine offers on this machine: the models, the devices and the noise kinds.

The types are plain and this module imports nothing heavy itself, so a UI can import it
before torch is loaded and call :func:`describe_environment` in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelChoice:
    """A registered model as a list of choices shows it."""

    name: str
    kind: str  # "autoencoder" or "denoiser"
    summary: str
    config_cls: type


@dataclass(frozen=True)
class EnvironmentInfo:
    """The models, devices and noise kinds, as plain values."""

    models: tuple[ModelChoice, ...]
    devices: dict[str, bool]  # device name -> available here
    auto_device: str  # what "auto" picks, in words
    noise_kinds: tuple[str, ...]
    noise_syntax: dict[str, str]


def describe_environment() -> EnvironmentInfo:
    """Load the engine (and torch) and describe the models, devices and noise kinds.

    Returns
    -------
    EnvironmentInfo
        The registry's models in list order, which devices are available, what ``auto``
        picks, and the noise kinds with their syntax.
    """
    # Imported here: loading them loads torch, which callers want to do off the UI thread.
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
    """Build one optimizer: torch imports its compiler machinery lazily on the first
    (seconds), and paying that in a background thread makes the first run start quicker."""
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])


def auto_device_name() -> str:
    """Load torch and name the device ``auto`` picks (``CPU (2 cores)``, ``CUDA: ...``)."""
    from aestudio.core.runtime.device import describe_device, resolve_device

    return describe_device(resolve_device("auto"))
