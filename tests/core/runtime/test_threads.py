"""Thread counts while a job runs beside an interactive program."""

from __future__ import annotations

import os

import torch

from aestudio.core.runtime.threads import leave_a_core_free


def test_leave_a_core_free_restores_the_thread_count() -> None:
    before = torch.get_num_threads()
    with leave_a_core_free() as threads:
        assert threads == max(1, (os.cpu_count() or 2) - 1)
        assert torch.get_num_threads() == threads
    assert torch.get_num_threads() == before
