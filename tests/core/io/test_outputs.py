"""Where a job will write is checked before it starts."""

from __future__ import annotations

import errno
import os

import pytest

from aestudio.core.errors import describe_error, is_user_error
from aestudio.core.io.outputs import OutputIsInputError, check_output_file


def test_a_new_file_in_a_new_folder_is_fine_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out" / "codes.csv"
    assert check_output_file(target) == target
    assert target.parent.is_dir() and list(target.parent.iterdir()) == []


def test_an_input_file_or_a_file_inside_an_input_folder_is_refused(tmp_path):
    model = tmp_path / "m.aemodel"
    model.write_bytes(b"x")
    data = tmp_path / "digits"
    data.mkdir()
    with pytest.raises(OutputIsInputError):
        check_output_file(model, inputs=[model, data])
    with pytest.raises(OutputIsInputError, match="inside the input folder"):
        check_output_file(data / "sub" / "codes.csv", inputs=[data])
    assert not (data / "sub").exists()


def test_a_folder_or_an_existing_file_without_overwrite_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError) as folder:
        check_output_file(tmp_path)
    assert is_user_error(folder.value) and "it is a folder" in describe_error(folder.value)
    existing = tmp_path / "a.png"
    existing.write_bytes(b"x")
    with pytest.raises(FileExistsError):
        check_output_file(existing, overwrite=False)
    assert check_output_file(existing) == existing and existing.read_bytes() == b"x"


def test_a_folder_that_takes_no_files_is_found_before_the_work(tmp_path, monkeypatch):
    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    monkeypatch.setattr("aestudio.core.io.outputs.tempfile.mkstemp", read_only)
    with pytest.raises(OSError) as error:
        check_output_file(tmp_path / "m.aemodel")
    assert "read-only" in describe_error(error.value)
