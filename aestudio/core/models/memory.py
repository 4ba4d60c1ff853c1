"""How much memory a model would take, known before a byte of it is allocated.

A model is built on PyTorch's ``meta`` device (shapes without storage) to count its weights
and, for training, the activations one image leaves for the backward pass. A configuration
that would need more memory than the machine has is refused with one line, instead of
allocating gigabytes and failing inside the allocator.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from aestudio.core.errors import ConfigError

__all__ = ["machine_memory_bytes", "check_inference_memory", "check_training_memory",
           "model_memory"]

# Reading a file holds the tensors read and the model's own copy.
_INFERENCE_COPIES = 2
# Weights, gradients, Adam's two moments, mixed-precision casts, and the copies a save
# serialises (weights and moments, cloned then packed): a peak of about 11 copies measured.
_TRAINING_COPIES = 12
# Saved activations, their gradients and the optimiser's working space, per activation.
_ACTIVATION_COPIES = 3


def machine_memory_bytes() -> int | None:
    """Memory this process could take now, in bytes (Linux's MemAvailable, else physical
    memory), or None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _on_meta(cls: type, config: Any) -> nn.Module:
    with torch.device("meta"):
        return cls(config)


def model_memory(cls: type, config: Any, *, image_shape: tuple[int, int, int] | None = None
                 ) -> tuple[int, int]:
    """Bytes of a model's weights, and of the activations one image produces.

    Parameters
    ----------
    cls
        The model class (its constructor takes ``config``).
    config
        The model's config.
    image_shape
        ``(channels, height, width)`` of one input; without it the activations are not
        measured (0).

    Returns
    -------
    tuple of int
        Weight bytes (parameters and buffers) and activation bytes per image.
    """
    model = _on_meta(cls, config)
    weights = sum(t.numel() * t.element_size()
                  for t in (*model.parameters(), *model.buffers()))
    if image_shape is None:
        return weights, 0
    total = [0]

    def count(_module: nn.Module, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            total[0] += output.numel() * output.element_size()

    leaves = [m for m in model.modules() if not any(True for _ in m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    try:
        with torch.no_grad():
            model(torch.empty((1, *image_shape), device="meta"))
    except Exception:  # noqa: BLE001  (a model without a meta forward: weights only)
        total[0] = 0
    finally:
        for hook in hooks:
            hook.remove()
    return weights, total[0]


def _gigabytes(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def _refuse(what: str, need: float, have: int) -> None:
    raise ConfigError(f"{what} would need about {_gigabytes(need)} of memory and this machine "
                      f"has {_gigabytes(have)} free; choose a smaller width, depth, hidden size, "
                      "image size or batch")


def check_inference_memory(name: str, cls: type, config: Any) -> int:
    """Refuse a model whose weights would not fit in the memory the machine has free.

    Returns
    -------
    int
        The bytes of the model's weights.

    Raises
    ------
    ConfigError
        Naming the memory needed and the memory the machine has.
    """
    weights, _ = model_memory(cls, config)
    have = machine_memory_bytes()
    if have is not None and _INFERENCE_COPIES * weights > have:
        _refuse(f"the model {name}", _INFERENCE_COPIES * weights, have)
    return weights


def check_training_memory(name: str, cls: type, config: Any, *, batch_size: int,
                          image_shape: tuple[int, int, int]) -> int:
    """Refuse a training run that would need more memory than the machine has free.

    Parameters
    ----------
    name, cls, config
        The model's registry name, class and config.
    batch_size
        Images (or patches) per step.
    image_shape
        ``(channels, height, width)`` of one training image or patch.

    Returns
    -------
    int
        The bytes of the model's weights.

    Raises
    ------
    ConfigError
        Naming the memory needed and the memory the machine has.
    """
    weights, activations = model_memory(cls, config, image_shape=image_shape)
    have = machine_memory_bytes()
    need = _TRAINING_COPIES * weights + _ACTIVATION_COPIES * activations * batch_size
    if have is not None and need > have:
        _refuse(f"training {name} with batches of {batch_size}", need, have)
    return weights
