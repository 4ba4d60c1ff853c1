"""Hooks of the fault-injection suite: its tally at the end of the run.

The helpers live in :mod:`tests.faults.fault_helpers`; they are re-exported here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.faults.fault_helpers import (  # noqa: F401  (re-exported for the test modules)
    LOST_CASES,
    TALLY,
    TRACEBACK_CASES,
    Outcome,
    Snapshot,
    assert_clean_failure,
    is_temporary,
    note_data_lost,
    note_traceback,
    run_cli,
)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/faults/" not in report.nodeid.replace(os.sep, "/"):
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        TALLY["cases"] += 1
        TALLY[report.outcome] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    if not TALLY["cases"]:
        return
    summary = {"cases": TALLY["cases"], "clean": TALLY["passed"], "failed": TALLY["failed"],
               "skipped": TALLY["skipped"], "tracebacks": len(TRACEBACK_CASES),
               "data_lost": len(LOST_CASES)}
    terminalreporter.write_line(
        "fault-injection suite: {cases} cases, {clean} clean, {failed} failed, {skipped} "
        "skipped; {tracebacks} with a traceback, {data_lost} with data lost".format(**summary))
    out = Path(__file__).resolve().parents[2] / "build" / "faults" / "summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
