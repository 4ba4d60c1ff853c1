"""Helpers of the fault-injection suite: run a command, judge its message, prove nothing was lost.

Every case of the suite ends in one :class:`Outcome`; :func:`assert_clean_failure` is the rule
for a bad input (exit status 2, exactly one line on stderr, no traceback), and
:class:`Snapshot` proves that no file that existed before a command changed and that no
temporary or partial file is left under a final name. One module, imported by the tests and
by ``conftest.py`` under the same name, so that the tally is counted once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from aestudio.cli import main
from aestudio.core.facts import TEMP_PREFIX, TEMP_SUFFIX

# The suite's tally, printed at the end of the run and written to build/faults/summary.json.
TALLY: Counter[str] = Counter()
TRACEBACK_CASES: set[str] = set()
LOST_CASES: set[str] = set()


def _current_case() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]


def note_traceback() -> None:
    """Count the running case as one that printed a traceback."""
    TRACEBACK_CASES.add(_current_case())


def note_data_lost() -> None:
    """Count the running case as one that changed or left behind a file."""
    LOST_CASES.add(_current_case())


@dataclass
class Outcome:
    """What a command did: its exit status and its standard streams."""

    status: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.err


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    """Run ``aestudio ARGV`` in this process and capture what it printed."""
    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse refusing an argument
        status = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    outcome = Outcome(status, captured.out, captured.err)
    if outcome.traceback:
        note_traceback()
    return outcome


def assert_clean_failure(outcome: Outcome, *words: str) -> None:
    """A bad input's rule: status 2, one line starting ``aestudio``, no traceback."""
    assert not outcome.traceback, outcome.err
    assert outcome.status == 2, (outcome.status, outcome.err)
    assert len(outcome.err_lines) == 1, outcome.err
    line = outcome.err_lines[0]
    assert line.startswith("aestudio"), line
    for word in words:
        assert word in line, (word, line)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_temporary(path: Path) -> bool:
    """True for a temporary file of aestudio's atomic writer."""
    return path.name.startswith(TEMP_PREFIX) and path.name.endswith(TEMP_SUFFIX)


class Snapshot:
    """The content of every file under a folder, to compare before and after a command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = self._read()

    def _read(self) -> dict[Path, str]:
        found = {}
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    found[path] = _digest(path)
        return found

    def changed(self) -> list[Path]:
        """Files that existed before and are now different or gone."""
        now = self._read()
        changed = sorted(p for p, digest in self.files.items() if now.get(p) != digest)
        if changed:
            note_data_lost()
        return changed

    def new_files(self) -> list[Path]:
        """Files that did not exist before."""
        return sorted(set(self._read()) - set(self.files))

    def temporaries(self) -> list[Path]:
        """Temporary files of the atomic writer left behind."""
        left = [p for p in self._read() if is_temporary(p)]
        if left:
            note_data_lost()
        return left

    def assert_nothing_lost(self, *, allowed_new: tuple[Path, ...] = ()) -> None:
        """No file changed or vanished, no temporary left, and only ``allowed_new`` appeared."""
        assert self.changed() == [], self.changed()
        assert self.temporaries() == [], self.temporaries()
        unexpected = [p for p in self.new_files() if p not in allowed_new]
        assert unexpected == [], unexpected


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextmanager
def as_in_a_real_process() -> Iterator[None]:
    """Let log records and warnings reach stderr as they do in the ``aestudio`` process
    (pytest otherwise collects both, hiding library chatter from the checks)."""
    root = logging.getLogger()
    handlers, root.handlers = root.handlers[:], []
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                             ResourceWarning):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = _show_warning
            yield
    finally:
        root.handlers = handlers


def run_as_process(argv: list, capsys: pytest.CaptureFixture[str]) -> Outcome:
    """:func:`run_cli` as the real process runs: a stderr that escapes what it cannot
    encode (a name that is not UTF-8 prints as ``\\udcff``), log records and warnings on it."""
    sys.stderr.reconfigure(errors="backslashreplace")
    with as_in_a_real_process():
        return run_cli(argv, capsys)
