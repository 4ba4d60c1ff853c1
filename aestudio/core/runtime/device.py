"""Choosing and describing the compute device (CUDA, then Apple MPS, then CPU)."""

from __future__ import annotations

import os

import torch

from aestudio.core.config import ConfigError


def cuda_available() -> bool:
    return torch.cuda.is_available()


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``auto``, ``cpu``, ``cuda`` (or ``cuda:N``) or ``mps``.

    Raises
    ------
    ConfigError
        When the requested device is not available on this machine.
    """
    if name == "auto":
        if cuda_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not cuda_available():
            raise ConfigError("CUDA was requested but no CUDA GPU is available")
        return torch.device(name)
    if name == "mps":
        if not mps_available():
            raise ConfigError("Apple MPS was requested but is not available")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise ConfigError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")


def describe_device(device: torch.device | str) -> str:
    """A short human name: ``CUDA: NVIDIA H100``, ``Apple MPS`` or ``CPU (8 cores)``."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA: {torch.cuda.get_device_name(index)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({os.cpu_count() or 1} cores)"
