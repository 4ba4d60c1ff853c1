"""The one atomic writer: whole or nothing, permissions kept, stale temporaries cleared."""

from __future__ import annotations

import os
import time

import pytest

from aestudio.core.io.atomic import (
    atomic_copy,
    atomic_write,
    atomic_write_bytes,
    remove_stale_temporaries,
)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.aemodel"
    target.write_bytes(b"old")

    def explode(handle):
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, explode)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.aemodel"]


def test_replacing_keeps_the_permissions(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"x")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640


def test_a_folder_is_not_overwritten(tmp_path):
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(tmp_path, b"x")


def test_copy(tmp_path):
    source = tmp_path / "s.bin"
    source.write_bytes(os.urandom(3 << 20))
    atomic_copy(source, tmp_path / "t.bin")
    assert (tmp_path / "t.bin").read_bytes() == source.read_bytes()


def test_only_old_temporaries_of_ours_are_removed(tmp_path):
    old = tmp_path / ".codes.csv.abc123.aestudio-tmp"
    fresh = tmp_path / ".codes.csv.def456.aestudio-tmp"
    other = tmp_path / ".hidden.tmp"
    for p in (old, fresh, other):
        p.write_bytes(b"x")
    past = time.time() - 7 * 3600
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    assert remove_stale_temporaries(tmp_path) == [old]
    assert not old.exists() and fresh.exists() and other.exists()
