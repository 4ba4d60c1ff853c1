"""Tests for aestudio.core.io.walk: the one folder walker and its rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aestudio.core.io.walk import list_image_files


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_lists_images_sorted_by_parts_and_skips_hidden(tmp_path: Path) -> None:
    for rel in ["b.png", "a/z.JPG", "a-b.png", "a/.hidden.png", ".cache/c.png",
                "a/.c.png.x1y2.aestudio-tmp", "notes.txt", "a/deep/d.tif"]:
        touch(tmp_path / rel)
    listing = list_image_files(tmp_path)
    assert listing.files == ("a/deep/d.tif", "a/z.JPG", "a-b.png", "b.png")
    assert listing.other_files == 1  # notes.txt
    assert listing.problems == ()
    assert listing.paths()[0] == tmp_path / "a" / "deep" / "d.tif"


def test_not_recursive_suffixes_and_exclude(tmp_path: Path) -> None:
    touch(tmp_path / "top.png")
    touch(tmp_path / "sub" / "inner.png")
    touch(tmp_path / "out" / "done.png")
    touch(tmp_path / "readme.md")
    assert list_image_files(tmp_path, recursive=False).files == ("top.png",)
    assert list_image_files(tmp_path, exclude=tmp_path / "out").files == (
        "sub/inner.png", "top.png")
    every = list_image_files(tmp_path, suffixes=None)
    assert every.files == ("out/done.png", "readme.md", "sub/inner.png", "top.png")
    assert every.other_files == 0


def test_follows_links_without_loops(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.png")
    try:
        os.symlink(tmp_path, tmp_path / "sub" / "loop")
        os.symlink(tmp_path / "sub", tmp_path / "twin")
        os.symlink(tmp_path / "sub" / "a.png", tmp_path / "link.png")
        os.symlink(tmp_path / "gone.png", tmp_path / "dangling.png")
        os.symlink(tmp_path / "gone.txt", tmp_path / "dangling.txt")
    except (OSError, NotImplementedError):
        pytest.skip("no symlinks here")
    listing = list_image_files(tmp_path)
    assert listing.files == ("link.png", "sub/a.png")  # twin is sub again: entered once
    assert [(p.path.name, p.reason) for p in listing.problems] == [
        ("dangling.png", "broken symbolic link")]


@pytest.mark.skipif(os.name == "nt" or os.uname().sysname == "Darwin",
                    reason="needs a file system that takes any bytes as a name")
def test_names_not_utf8_are_reported(tmp_path: Path) -> None:
    touch(tmp_path / "ok.png")
    try:
        (Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff.png"))).write_bytes(b"x")
        os.mkdir(bytes(tmp_path) + b"/dir\xfe")
    except OSError:
        pytest.skip("the file system refuses names that are not UTF-8")
    listing = list_image_files(tmp_path)
    assert listing.files == ("ok.png",)
    assert sorted(p.reason for p in listing.problems) == [
        "file name is not valid UTF-8", "folder name is not valid UTF-8"]


def test_unreadable_folder_is_reported(tmp_path: Path) -> None:
    touch(tmp_path / "locked" / "a.png")
    touch(tmp_path / "b.png")
    (tmp_path / "locked").chmod(0)
    try:
        if os.access(tmp_path / "locked", os.R_OK):
            pytest.skip("permissions are not enforced here (root)")
        listing = list_image_files(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert listing.files == ("b.png",)
    assert listing.problems[0].reason.startswith("cannot read folder")


def test_root_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        list_image_files(touch(tmp_path / "a.png"))
    with pytest.raises(FileNotFoundError):
        list_image_files(tmp_path / "missing")
