"""One batch shared by the processes of a ``torchrun`` job: each denoises its own files.

Every process lists the same inputs and plans the same outputs (so that numbered names come
out as in one run); :func:`shard_indices` gives each rank a disjoint part, every file going
to exactly one rank; the rank denoises its part with
:func:`~aestudio.core.denoise.batch.denoise_files`, which writes atomically and reports bad
files as in one process; and :func:`denoise_shard` gathers the parts' summaries, so that
every rank holds the report of the whole batch and rank 0 can print it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aestudio.core.denoise.batch import (
    BatchStopped,
    BatchSummary,
    batch_items,
    denoise_files,
    plan_outputs,
)
from aestudio.core.events import EventCallback
from aestudio.core.models.modelfile import LoadedModel
from aestudio.core.runtime.distributed import DistContext, all_ranks

__all__ = ["denoise_shard", "merge_summaries", "shard_indices"]


def shard_indices(sources: Sequence[str | os.PathLike[str]], rank: int,
                  world_size: int) -> list[int]:
    """The positions in ``sources`` that rank ``rank`` of ``world_size`` denoises.

    The files are sorted by path, so the split does not depend on the order the inputs
    were listed in, and dealt out in turn: file ``i`` of the sorted list goes to rank
    ``i % world_size``. Every rank computes the same split from the same list.

    Parameters
    ----------
    sources
        The whole batch's files, the same list on every rank.
    rank, world_size
        This process's rank and the number of processes.

    Returns
    -------
    list of int
        Ascending positions in ``sources``; over all ranks, each position exactly once.

    Raises
    ------
    ValueError
        When ``world_size`` is below 1 or ``rank`` is not in ``range(world_size)``.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not one of {world_size} processes")
    # The position breaks ties, so equal path names still split deterministically.
    order = sorted(range(len(sources)), key=lambda i: (os.fspath(sources[i]), i))
    return sorted(order[rank::world_size])


def merge_summaries(parts: Sequence[BatchSummary], order: Sequence[Path]) -> BatchSummary:
    """One summary of a batch from the summaries of its parts.

    Parameters
    ----------
    parts
        At least one summary, all into the same output folder.
    order
        The whole batch's sources as listed: the merged lists follow this order.

    Returns
    -------
    BatchSummary
        All files written, failed and noted; cancelled when any part was; its time is
        the slowest part's, since the parts ran side by side.
    """
    if not parts:
        raise ValueError("no summaries to merge")
    position = {Path(source): i for i, source in enumerate(order)}

    def key(pair: tuple[Path, Any]) -> int:
        return position.get(pair[0], len(position))

    merged = BatchSummary(parts[0].out_dir)
    for part in parts:
        merged.done += part.done
        merged.failed += part.failed
        merged.notes += part.notes
    merged.done.sort(key=key)
    merged.failed.sort(key=key)
    merged.notes.sort(key=key)
    merged.cancelled = any(part.cancelled for part in parts)
    merged.not_started = sum(part.not_started for part in parts)
    merged.seconds = max(part.seconds for part in parts)
    return merged


def denoise_shard(
    loaded: LoadedModel,
    files: Sequence[Path | tuple[Path, str]],
    out_dir: Path,
    context: DistContext,
    *,
    suffix: str = "",
    on_event: EventCallback | None = None,
    **options: Any,
) -> BatchSummary:
    """Denoise this rank's part of ``files``; every rank gets the whole batch's summary.

    Every rank must call it with the same ``files`` and options: it is a collective call.

    Parameters
    ----------
    loaded
        The denoiser, on this rank's device.
    files, out_dir, suffix
        The whole batch, as for :func:`~aestudio.core.denoise.batch.denoise_files`.
    context
        This process's place in the job; a one-process context denoises everything.
    on_event
        Events of this rank's files; their ``index`` and ``total`` count within its part.
    **options
        The other keyword arguments of :func:`~aestudio.core.denoise.batch.denoise_files`
        (``tile``, ``amount``, ``luma``, ``chroma``, ``stop``, ``mixed_precision``).

    Returns
    -------
    BatchSummary
        The merged summary of all ranks (:func:`merge_summaries`), the same on each.

    Raises
    ------
    BatchStopped
        On every rank, when the output disk failed on any of them; files done are complete.
    """
    items = batch_items(files)
    # The whole batch's plan: each rank's outputs are named as one process names them.
    targets = plan_outputs(items, Path(out_dir), suffix)
    mine = shard_indices([source for source, _ in items], context.rank, context.world_size)
    stopped: str | None = None
    try:
        summary = denoise_files(loaded, [items[i] for i in mine], Path(out_dir),
                                suffix=suffix, on_event=on_event,
                                targets=[targets[i] for i in mine], **options)
    except BatchStopped as exc:
        # Reported after the gather, so that no rank waits for one that has left.
        summary, stopped = BatchSummary(Path(out_dir)), str(exc)
    parts = all_ranks((summary, stopped), context)
    reasons = [(rank, reason) for rank, (_, reason) in enumerate(parts) if reason]
    if reasons:
        rank, reason = reasons[0]
        where = f"process {rank} of {context.world_size}: " if context.enabled else ""
        raise BatchStopped(where + reason)
    return merge_summaries([part for part, _ in parts], [source for source, _ in items])
