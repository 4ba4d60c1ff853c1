"""Fast number formats where the hardware runs them natively.

- ``channels_last`` weights let oneDNN (CPU) and cuDNN (GPU) run convolutions without
  reordering memory before and after each layer: the same numbers, faster.
- Mixed precision: bfloat16 matrix work with float32 weights and sums, on CUDA (float16 where
  bfloat16 is not supported) and on CPUs with native bfloat16 instructions (AVX-512 BF16 or
  AMX). Emulated bfloat16 (older CPUs) is slower than float32, so it is never used there.

What each gains is measured in ``docs/denoise.md`` ("Measured choices").
"""

from __future__ import annotations

import contextlib
import functools

import torch
from torch import nn


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(getattr(torch.cpu, name)() for name in probes if hasattr(torch.cpu, name))
    except RuntimeError:
        return False


def mixed_precision_dtype(device: torch.device | str) -> torch.dtype | None:
    """The reduced-precision type worth using on ``device``, or None for float32 only."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


def autocast(device: torch.device | str, enabled: bool = True) -> contextlib.AbstractContextManager:
    """``torch.autocast`` with :func:`mixed_precision_dtype` (a no-op where none pays).

    Parameters
    ----------
    device
        Where the computation runs.
    enabled
        False gives plain float32.
    """
    device = torch.device(device)
    dtype = mixed_precision_dtype(device) if enabled else None
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def to_channels_last(model: nn.Module) -> nn.Module:
    """Store the weights of a convolutional model channels-last (in place; returns it).

    Models without 2-D convolutions are left alone.
    """
    if any(isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in model.modules()):
        model.to(memory_format=torch.channels_last)
    return model
