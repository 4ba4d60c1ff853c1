"""How many CPU threads torch uses while a job runs beside an interactive program."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def leave_a_core_free() -> Iterator[int]:
    """Let torch use all cores but one, so that the program's UI thread stays responsive.

    Yields
    ------
    int
        The thread count in force; the previous count is restored afterwards.
    """
    previous = torch.get_num_threads()
    threads = max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(previous)
