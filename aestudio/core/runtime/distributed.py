"""Work past one machine: PyTorch DDP training and sharded batches under ``torchrun``.

``torchrun`` sets WORLD_SIZE, RANK and LOCAL_RANK (and the rendezvous address); when
they are present the trainer joins the process group (gloo on CPU, NCCL on CUDA), shards
each epoch with a :class:`~torch.utils.data.DistributedSampler`, averages gradients, and
only rank 0 logs and writes the model file. A batch denoise shares its files among the
ranks the same way (:mod:`aestudio.core.denoise.sharding`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the job; one process when ``world_size`` is 1."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when the environment describes a multi-process job."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_distributed(device: torch.device) -> tuple[DistContext, torch.device]:
    """Join the process group when launched by ``torchrun``; a no-op otherwise.

    Returns
    -------
    tuple
        The context and the device this rank trains on (``cuda:LOCAL_RANK`` on GPUs).
    """
    if not launched_by_torchrun():
        return DistContext(), device
    context = DistContext(int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"]),
                          int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        device = torch.device("cuda", context.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return context, device


def shutdown_distributed(context: DistContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def any_rank(flags: torch.Tensor, context: DistContext) -> torch.Tensor:
    """Element-wise maximum of small flag tensors over all ranks (so all ranks agree)."""
    if context.enabled:
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return flags


def all_ranks(value: Any, context: DistContext) -> list[Any]:
    """Every rank's ``value`` (any picklable object), in rank order, on every rank.

    Parameters
    ----------
    value
        This rank's contribution: small, it is pickled and sent to every rank.
    context
        Where this process stands; one process gets ``[value]``.

    Returns
    -------
    list
        One value per rank, ``world_size`` long.
    """
    if not context.enabled:
        return [value]
    values: list[Any] = [None] * context.world_size
    dist.all_gather_object(values, value)
    return values


@contextmanager
def distributed_job(device: torch.device) -> Iterator[tuple[DistContext, torch.device]]:
    """:func:`init_distributed` for the length of a ``with`` block, then leave the group.

    Yields
    ------
    tuple
        The context and this rank's device, as :func:`init_distributed` returns them.

    Notes
    -----
    Leaving normally, the ranks wait for one another. After an error a rank leaves at once:
    a barrier that the other ranks may never reach would hang it, while ``torchrun`` ends
    the remaining ranks when one exits with an error.
    """
    context, device = init_distributed(device)
    try:
        yield context, device
    except BaseException:
        if context.enabled and dist.is_initialized():
            dist.destroy_process_group()
        raise
    shutdown_distributed(context)
