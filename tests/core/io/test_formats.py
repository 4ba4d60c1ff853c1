"""Tests for aestudio.core.io.formats, png16 and source: sniffing, suffixes, 16-bit PNG."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from aestudio.core.errors import ImageReadError
from aestudio.core.io import png16
from aestudio.core.io.formats import (
    IMAGE_SUFFIXES,
    ImageMetadata,
    format_for_suffix,
    sniff_format,
)
from aestudio.core.io.read import read_image, read_metadata
from aestudio.core.io.source import read_source
from aestudio.core.io.write import write_image


def test_sniff_and_suffixes() -> None:
    assert sniff_format(b"\x89PNG\r\n\x1a\n....") == "PNG"
    assert sniff_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert sniff_format(b"MM\x00*") == sniff_format(b"II*\x00") == "TIFF"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WEBP") == "WEBP"
    assert sniff_format(b"BM") == "BMP"
    assert sniff_format(b"GIF89a") is None
    assert format_for_suffix("/a/b.JPEG") == "JPEG"
    assert {format_for_suffix(f"x{s}") for s in IMAGE_SUFFIXES} == {
        "PNG", "JPEG", "TIFF", "BMP", "WEBP"}
    with pytest.raises(ValueError, match="cannot tell the image format of 'x.gif'"):
        format_for_suffix("dir/x.gif")


def _chunk_kinds(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        kinds.append(kind)
        pos += 12 + length
    return kinds


def test_png16_keeps_metadata_before_the_pixels(tmp_path: Path) -> None:
    rgb = np.random.default_rng(3).integers(0, 65536, (9, 7, 3), dtype=np.uint16)
    icc = b"\x00" * 128
    path = tmp_path / "a.png"
    write_image(path, rgb, ImageMetadata("PNG", 16, None, icc, (300.0, 150.0)))
    assert _chunk_kinds(path.read_bytes())[:3] == [b"IHDR", b"iCCP", b"pHYs"]
    out, info = read_image(path)
    assert np.array_equal(out, rgb) and info.bit_depth == 16
    meta = read_metadata(path)
    assert meta.icc_profile == icc and meta.dpi is not None
    assert [round(d) for d in meta.dpi] == [300, 150]


def test_png16_decode_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    write_image(path, np.full((40, 40, 3), 7, np.uint16))
    with pytest.raises(ImageReadError, match="truncated or corrupt"):
        png16.decode(path.read_bytes()[:-30])


def test_source_contents_reads_a_large_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(bytes(range(256)) * 4)
    source = read_source(str(path), 16)
    assert not source.whole and source.head == bytes(range(16))
    assert source.contents() == path.read_bytes()
