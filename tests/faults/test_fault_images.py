"""Bad image files against ``denoise``, ``train`` and ``encode``.

Generated broken files (random bytes, empty files, truncations, a decompression bomb),
images in odd modes, and odd entries (a folder named like an image, a broken link, a name
that is not UTF-8, a very long name). A bad file named alone is one clean line and status
2; inside a folder it is named with its reason while every good image is still done. No
input changes and no temporary or partial file is left.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.cli.common import EXIT_SOME_FAILED
from aestudio.core.errors import REPORT_LINE
from aestudio.core.io.read import read_image
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file
from tests.faults.fault_helpers import Outcome, Snapshot, assert_clean_failure, run_as_process

TINY_AE = ["--latent-dim", "2", "--option", "width=4", "--option", "hidden=16",
           "--option", "depth=1"]
GOOD_NAMES = ("good0.png", "good1.png")


# --- generated files ---------------------------------------------------------------------

def _pixels(h: int = 20, w: int = 24, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _tiff(array: np.ndarray, **options) -> bytes:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **options)
    return buffer.getvalue()


def _png() -> bytes:
    return _encode(Image.fromarray(_pixels()), "PNG")


def _jpeg() -> bytes:
    return _encode(Image.fromarray(_pixels()), "JPEG", quality=90)


def _tiff_rgb() -> bytes:
    return _tiff(_pixels())


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _bomb_png(side: int = 100_000) -> bytes:
    """A valid-looking PNG of a few hundred bytes whose header claims side x side pixels."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    rows = b"".join(compressor.compress(b"\x00" * (side + 1)) for _ in range(4))
    rows += compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows)
            + _chunk(b"IEND", b""))


def _random(size: int, head: bytes = b"") -> Callable[[], bytes]:
    def make() -> bytes:
        return head + np.random.default_rng(size).bytes(size)
    return make


def _truncated(make: Callable[[], bytes], fraction: float | int) -> Callable[[], bytes]:
    def cut() -> bytes:
        data = make()
        end = fraction if isinstance(fraction, int) else int(len(data) * fraction)
        return data[:end]
    return cut


def _odd_modes() -> dict[str, tuple[str, Callable[[], bytes]]]:
    a = _pixels()
    contig = {"photometric": "minisblack", "planarconfig": "contig"}
    palette = Image.fromarray(a).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    return {
        "cmyk-jpeg": ("cmyk.jpg", lambda: _encode(Image.fromarray(a).convert("CMYK"), "JPEG")),
        "one-bit": ("onebit.png", lambda: _encode(Image.fromarray(a).convert("1"), "PNG")),
        "palette-transparent": ("palette.png",
                                lambda: _encode(palette, "PNG", transparency=0)),
        "la": ("la.png", lambda: _encode(Image.fromarray(a).convert("LA"), "PNG")),
        "i16": ("i16.png", lambda: _encode(
            Image.fromarray(a[..., 0].astype(np.uint16) * 257), "PNG")),
        "float32-tiff": ("float.tif", lambda: _tiff(a.astype(np.float32) / 255,
                                                       photometric="rgb")),
        "float32-nan-tiff": ("nan.tif", lambda: _tiff(np.full((20, 24), np.nan, np.float32))),
        "two-channel-tiff": ("c2.tif", lambda: _tiff(a[..., :2].copy(), **contig)),
        "five-channel-tiff": ("c5.tif", lambda: _tiff(
            np.concatenate([a, a[..., :2]], axis=-1), **contig)),
    }


#: Offsets (fractions of the file, or byte counts) that cut a file before its pixels end.
CUTS: tuple[float | int, ...] = (1, 8, 16, 33, 0.25, 0.5, 0.75, 0.85)


def _broken() -> dict[str, tuple[str, Callable[[], bytes]]]:
    cases: dict[str, tuple[str, Callable[[], bytes]]] = {
        "random-png": ("random.png", _random(400)),
        "random-jpg": ("random.jpg", _random(401)),
        "random-tif": ("random.tif", _random(402)),
        "random-tif-magic": ("magic.tif", _random(403, b"II*\x00")),
        "random-webp": ("random.webp", _random(404)),
        "random-png-signature": ("signature.png", _random(405, b"\x89PNG\r\n\x1a\n")),
        "empty-png": ("empty.png", lambda: b""),
        "empty-jpg": ("empty.jpg", lambda: b""),
        "empty-tif": ("empty.tif", lambda: b""),
        "bomb-png": ("bomb.png", _bomb_png),
    }
    for fmt, suffix, make in (("png", ".png", _png), ("jpeg", ".jpg", _jpeg),
                              ("tiff", ".tif", _tiff_rgb)):
        for cut in CUTS:
            cases[f"truncated-{fmt}-{cut}"] = (f"cut{suffix}", _truncated(make, cut))
    return cases


BROKEN = _broken()
ODD = _odd_modes()
#: Entries that are not plain image files: made by :func:`_place`.
ENTRIES = ("folder-named-png", "broken-link", "non-utf8-name", "long-name")
ALL_KINDS = (*BROKEN, *ODD, *ENTRIES)
#: The few kinds training and encoding are run on (each is a short training run).
REPRESENTATIVE = ("random-png", "random-tif-magic", "empty-jpg", "truncated-png-0.5",
                  "truncated-jpeg-0.75", "truncated-tiff-0.5", "bomb-png", "cmyk-jpeg",
                  "i16", "five-channel-tiff", *ENTRIES)


@dataclass(frozen=True)
class Placed:
    """A bad entry written into a folder: its path as given on the command line, and how
    its name shows in a message."""

    kind: str
    path: Path
    shown: str

    @property
    def refused(self) -> bool:
        """True when the entry must never be read as an image."""
        return self.kind in BROKEN or self.kind == "broken-link"

    @property
    def odd(self) -> bool:
        """True for a real image in an odd mode (or an odd name): read it or refuse it."""
        return self.kind in ODD or self.kind in ("non-utf8-name", "long-name")


def _place(kind: str, folder: Path) -> Placed:
    folder.mkdir(parents=True, exist_ok=True)
    if kind in BROKEN or kind in ODD:
        name, make = BROKEN.get(kind) or ODD[kind]
        path = folder / name
        path.write_bytes(make())
        return Placed(kind, path, str(path))
    if kind == "folder-named-png":
        path = folder / "x.png"
        path.mkdir()
        return Placed(kind, path, str(path))
    if kind == "broken-link":
        path = folder / "link.png"
        path.symlink_to(folder / "nowhere.png")
        return Placed(kind, path, str(path))
    if kind == "non-utf8-name":
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), b"bad\xff.png")))
        path.write_bytes(_png())
        return Placed(kind, path, str(folder / "bad"))
    if kind == "long-name":
        path = folder / ("L" * 250 + ".png")
        path.write_bytes(_png())
        return Placed(kind, path, str(path))
    raise AssertionError(kind)


def _good_folder(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(GOOD_NAMES):
        path = folder / name
        Image.fromarray(_pixels(18 + 2 * i, 22, seed=10 + i)).save(path)
        paths.append(path)
    return paths


# --- models --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fault-image-models")
    torch.manual_seed(0)
    denoiser = create_model("denoiser", channels=3, width=8, depth=1)
    autoencoder = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4,
                               hidden=16, depth=1)
    return {"denoiser": save_model_file(root / "d.aemodel", denoiser.eval()),
            "autoencoder": save_model_file(root / "ae.aemodel", autoencoder.eval())}


_run = run_as_process


# --- checks --------------------------------------------------------------------------------

def _assert_valid_output(source: Path, output: Path) -> None:
    assert output.is_file(), output
    expected, _ = read_image(source)
    written, _ = read_image(output)
    assert written.shape[:2] == expected.shape[:2], (written.shape, expected.shape)
    sidecar = json.loads(output.with_name(output.name + ".json").read_text("utf-8"))
    assert sidecar["size"] == [expected.shape[1], expected.shape[0]]


def _lines_naming(outcome: Outcome, placed: Placed) -> list[str]:
    return [line for line in outcome.err_lines if placed.shown in line]


def _assert_named_once(outcome: Outcome, placed: Placed) -> None:
    """The bad entry is named on exactly one line, ``skipped PATH: REASON``."""
    lines = _lines_naming(outcome, placed)
    assert len(lines) == 1, outcome.err
    line = lines[0]
    assert line.startswith("skipped "), line
    reason = line.rpartition(": ")[2].strip()
    assert ": " in line and reason, line
    assert REPORT_LINE not in line, line  # a bug, dressed as a bad file


def _assert_no_stray_lines(outcome: Outcome, *prefixes: str, contains: str = "\0") -> None:
    """Every stderr line is one of the command's own lines (no library chatter)."""
    stray = [line for line in outcome.err_lines
             if not line.startswith(("skipped ", "aestudio: ", *prefixes)) and contains not in line]
    assert stray == [], outcome.err


# --- denoise: one bad file named alone -----------------------------------------------------

@pytest.mark.parametrize("kind", ALL_KINDS)
def test_denoise_one_bad_file(kind: str, models: dict[str, Path], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    placed = _place(kind, tmp_path / "in")
    snapshot = Snapshot(tmp_path)
    out = tmp_path / "out"
    outcome = _run(["denoise", models["denoiser"], placed.path, "--out", out], capsys)
    assert not outcome.traceback, outcome.err
    if outcome.status == 0 and not placed.refused and kind != "folder-named-png":
        output = out / placed.path.name
        _assert_valid_output(placed.path, output)
        snapshot.assert_nothing_lost(
            allowed_new=(output, output.with_name(output.name + ".json")))
        return
    assert_clean_failure(outcome, placed.path.name[:40])
    assert REPORT_LINE not in outcome.err, outcome.err
    snapshot.assert_nothing_lost()


# --- denoise: a folder of good images and one bad entry ------------------------------------

@pytest.mark.parametrize("kind", ALL_KINDS)
def test_denoise_folder_with_a_bad_file(kind: str, models: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    good = _good_folder(folder)
    placed = _place(kind, folder)
    snapshot = Snapshot(tmp_path)
    out = tmp_path / "out"
    outcome = _run(["denoise", models["denoiser"], folder, "--out", out], capsys)
    assert not outcome.traceback, outcome.err
    outputs = [out / path.name for path in good]
    for source, output in zip(good, outputs, strict=True):
        _assert_valid_output(source, output)
    bad_output = out / placed.path.name
    if placed.refused or not bad_output.is_file():
        if kind != "folder-named-png":
            _assert_named_once(outcome, placed)
    else:
        _assert_valid_output(placed.path, bad_output)
        outputs.append(bad_output)
    _assert_no_stray_lines(outcome, contains=" -> ")
    written = tuple(outputs) + tuple(p.with_name(p.name + ".json") for p in outputs)
    snapshot.assert_nothing_lost(allowed_new=written)
    # 0 when every image was done; 3 (without a traceback) when some were skipped and the
    # others done, as finish_batch documents.
    skipped = any(line.startswith("skipped ") for line in _lines_naming(outcome, placed))
    assert outcome.status == (EXIT_SOME_FAILED if skipped and placed.kind in {*BROKEN, *ODD, "long-name"}
                              else 0), (outcome.status, outcome.err)


# --- train and encode: a folder with one bad entry -----------------------------------------

def _digit_folder_with(kind: str, digit_folder: Path) -> Placed:
    return _place(kind, digit_folder / "0")


@pytest.mark.parametrize("kind", REPRESENTATIVE)
def test_train_skips_a_bad_file(kind: str, digit_folder: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    placed = _digit_folder_with(kind, digit_folder)
    snapshot = Snapshot(tmp_path)
    model = tmp_path / "m.aemodel"
    outcome = _run(["train", digit_folder, "--size", "16", "--epochs", "1", "--device", "cpu",
                       "--batch-size", "8", "--out", model, *TINY_AE], capsys)
    assert not outcome.traceback, outcome.err
    assert outcome.status == 0, outcome.err
    if placed.refused or _lines_naming(outcome, placed):
        _assert_named_once(outcome, placed)
    _assert_no_stray_lines(outcome, "training ", "finished ")
    assert model.is_file()
    snapshot.assert_nothing_lost(allowed_new=(model,))


@pytest.mark.parametrize("kind", REPRESENTATIVE)
def test_encode_skips_a_bad_file(kind: str, models: dict[str, Path], digit_folder: Path,
                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = sum(1 for p in digit_folder.rglob("*.png") if p.is_file())
    placed = _digit_folder_with(kind, digit_folder)
    snapshot = Snapshot(tmp_path)
    codes = tmp_path / "codes.csv"
    outcome = _run(["encode", models["autoencoder"], digit_folder, "--out", codes], capsys)
    assert not outcome.traceback, outcome.err
    assert outcome.status == 0, outcome.err
    rows = codes.read_text("utf-8").splitlines()[1:]
    if placed.refused or _lines_naming(outcome, placed):
        _assert_named_once(outcome, placed)
        assert len(rows) == images, rows
    elif kind != "folder-named-png":
        assert len(rows) == images + 1, rows
    _assert_no_stray_lines(outcome, "encoded ")
    snapshot.assert_nothing_lost(allowed_new=(codes,))
