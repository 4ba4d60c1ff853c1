"""One error family and one line for people, whatever failed."""

from __future__ import annotations

import errno

import pytest

from aestudio.core.config import ConfigError as ConfigErrorFromConfig
from aestudio.core.errors import (
    REPORT_LINE,
    ConfigError,
    DatasetError,
    ImageReadError,
    ModelFileError,
    NoiseSpecError,
    TrainingError,
    UserError,
    describe_error,
    is_user_error,
)


@pytest.mark.parametrize("kind", [ConfigError, DatasetError, ImageReadError, ModelFileError,
                                  NoiseSpecError, TrainingError])
def test_every_expected_failure_is_a_user_error(kind):
    exc = kind("a.png is truncated\nmore detail")
    assert isinstance(exc, UserError) and is_user_error(exc)
    assert describe_error(exc) == "a.png is truncated"


def test_the_old_import_paths_name_the_same_class():
    assert ConfigErrorFromConfig is ConfigError


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "the disk is full"),
                                             (errno.EROFS, "read-only"),
                                             (errno.EISDIR, "it is a folder"),
                                             (errno.EEXIST, "already exists")])
def test_disk_errors_name_the_file_and_the_reason(code, words):
    exc = OSError(code, "raw text", "/out/codes.csv")
    assert is_user_error(exc)
    line = describe_error(exc)
    assert line.startswith("/out/codes.csv: ") and words in line and "\n" not in line


def test_a_bug_keeps_its_type_and_asks_for_a_report():
    exc = KeyError("architecture")
    assert not is_user_error(exc)
    line = describe_error(exc)
    assert line.startswith("KeyError: 'architecture'") and line.endswith(REPORT_LINE)


def test_a_file_name_that_is_not_utf8_is_shown_escaped():
    exc = FileNotFoundError(errno.ENOENT, "No such file", b"/in/caf\xe9.png")
    line = describe_error(exc)
    assert "caf" in line and "no such file" in line
