"""Tests for aestudio.core.data (scan, decode, cache): scanning, decoding and the decoded cache."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from aestudio.core.data import decode as decode_module
from aestudio.core.data import scan as scan_module
from aestudio.core.data.cache import default_cache_dir
from aestudio.core.data.decode import decode_folder
from aestudio.core.data.records import DecodedSet, ScanCancelled, ScanResult
from aestudio.core.data.resize import to_gray
from aestudio.core.data.scan import scan_folder
from aestudio.core.errors import DatasetError
from aestudio.core.facts import LUMA_WEIGHTS
from aestudio.core.io.read import read_image
from aestudio.core.io.write import write_image

RNG = np.random.default_rng(99)


def rand(shape: tuple[int, ...], dtype: type = np.uint8) -> np.ndarray:
    return RNG.integers(0, np.iinfo(dtype).max + 1, size=shape, dtype=dtype)


def put(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, arr)
    return path


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """cats/ (2 RGB), dogs/ (1 gray + a bad file), 1 root image, hidden and non-image files."""
    root = tmp_path / "data"
    put(root / "cats" / "b.png", rand((32, 32, 3)))
    put(root / "cats" / "a.jpg", rand((40, 30, 3)))
    put(root / "dogs" / "deep" / "c.png", rand((30, 36, 1)))
    (root / "dogs" / "broken.png").write_text("not really a png")
    put(root / "top.bmp", rand((28, 28, 3)))
    put(root / ".hidden.png", rand((32, 32, 3)))
    put(root / ".cache" / "x.png", rand((32, 32, 3)))
    (root / "notes.txt").write_text("hello")
    return root


# --------------------------------------------------------------------------- scanning


def test_scan_labels_order_and_skips(labelled: Path) -> None:
    scan = scan_folder(labelled)
    assert [r.relpath for r in scan.images] == [
        "cats/a.jpg",
        "cats/b.png",
        "dogs/deep/c.png",
        "top.bmp",
    ]
    assert [r.label for r in scan.images] == ["cats", "cats", "dogs", ""]
    assert scan.labels == ("", "cats", "dogs")
    assert scan.label_counts == {"": 1, "cats": 2, "dogs": 1}
    assert scan.channels == 3
    assert scan.images[0].info.width == 30 and scan.images[0].path.is_file()
    assert [(s.path.name, s.reason) for s in scan.skipped] == [("broken.png", "not an image")]


def test_scan_min_size_and_max_pixels(labelled: Path) -> None:
    scan = scan_folder(labelled, min_size=31)
    reasons = {s.path.name: s.reason for s in scan.skipped}
    assert reasons["top.bmp"] == "smaller than the training size: 28x28 < 31"
    assert reasons["c.png"] == "smaller than the training size: 36x30 < 31"
    assert reasons["a.jpg"] == "smaller than the training size: 30x40 < 31"
    assert [r.relpath for r in scan.images] == ["cats/b.png"]

    scan = scan_folder(labelled, max_pixels=1000)
    assert [r.relpath for r in scan.images] == ["top.bmp"]  # 784 pixels
    assert "too many pixels" in {s.path.name: s.reason for s in scan.skipped}["b.png"]


def test_scan_gray_folder_has_one_channel(tmp_path: Path) -> None:
    put(tmp_path / "a.png", rand((8, 8, 1)))
    put(tmp_path / "b.png", rand((8, 8, 1), np.uint16))
    assert scan_folder(tmp_path).channels == 1


def test_scan_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        scan_folder(tmp_path / "nope")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="not a folder"):
        scan_folder(tmp_path / "file.png")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match=r"no images found in .*empty \(checked 0 files\)"):
        scan_folder(empty)

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("x")
    (docs / "b.csv").write_text("x")
    put(docs / ".hidden.png", rand((8, 8, 3)))
    with pytest.raises(DatasetError, match=r"checked 2 files"):
        scan_folder(docs)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "zero.png").write_bytes(b"")
    (bad / "text.jpg").write_text("hello")
    put(bad / "tiny.png", rand((4, 4, 3)))
    with pytest.raises(DatasetError, match=r"no usable images in .*bad: 3 files skipped"):
        scan_folder(bad, min_size=8)


def test_scan_survives_symlink_loops(tmp_path: Path) -> None:
    root = tmp_path / "root"
    put(root / "sub" / "a.png", rand((8, 8, 3)))
    try:
        os.symlink(root, root / "sub" / "loop")
        os.symlink(root / "sub" / "a.png", root / "link.png")
        os.symlink(root / "gone.png", root / "dangling.png")
    except (OSError, NotImplementedError):
        pytest.skip("no symlinks here")
    scan = scan_folder(root)
    assert [r.relpath for r in scan.images] == ["link.png", "sub/a.png"]
    assert [s.reason for s in scan.skipped] == ["broken symbolic link"]


def test_scan_progress_and_stop(tmp_path: Path) -> None:
    for i in range(30):
        put(tmp_path / f"{i:02d}.png", rand((8, 8, 1)))
    calls: list[tuple[int, int]] = []
    scan_folder(tmp_path, progress=lambda done, total: calls.append((done, total)), workers=4)
    assert calls[0] == (0, 30) and calls[-1] == (30, 30)
    assert len(calls) <= 10  # throttled
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    stop = threading.Event()
    stop.set()
    with pytest.raises(ScanCancelled):
        scan_folder(tmp_path, stop=stop)

    for workers in (1, 4):  # in the calling thread, then in a pool
        event = threading.Event()  # set from the progress callback, mid-scan
        with pytest.raises(ScanCancelled):
            scan_folder(
                tmp_path, stop=event, progress=lambda d, t, e=event: e.set(), workers=workers
            )


# --------------------------------------------------------------------------- decoding


def test_decode_fixed_size(labelled: Path) -> None:
    scan = scan_folder(labelled)
    ds = decode_folder(scan, size=16, workers=2)
    assert isinstance(ds, DecodedSet) and len(ds) == 4
    assert ds.images.shape == (4, 3, 16, 16) and ds.images.dtype == np.uint8
    assert ds.bit_depth == 8 and ds.channels == 3 and ds.size == 16
    assert ds.labels == ("", "cats", "dogs")
    assert ds.label_index.dtype == np.int64 and ds.label_index.tolist() == [1, 1, 2, 0]
    assert [s.path.name for s in ds.skipped] == ["broken.png"]
    gray = ds.images[2]  # the gray image repeated to RGB
    assert np.array_equal(gray[0], gray[1]) and np.array_equal(gray[1], gray[2])


def test_decode_centre_crop(tmp_path: Path) -> None:
    arr = np.zeros((20, 60, 1), np.uint8)
    arr[:, :20] = 255
    arr[:, 20:40] = 100  # the centre square
    put(tmp_path / "wide.png", arr)
    put(tmp_path / "tall.png", arr.transpose(1, 0, 2).copy())
    ds = decode_folder(scan_folder(tmp_path), size=10)
    assert ds.images.shape == (2, 1, 10, 10)
    inner = ds.images[:, 0, 2:-2, 2:-2].astype(int)  # away from the edges (ringing)
    assert np.abs(inner - 100).max() <= 2


def test_decode_same_size_is_exact(tmp_path: Path) -> None:
    arr = rand((12, 12, 3))
    put(tmp_path / "a.png", arr)
    ds = decode_folder(scan_folder(tmp_path), size=12)
    assert np.array_equal(ds.images[0], arr.transpose(2, 0, 1))


def test_decode_forced_channels(tmp_path: Path) -> None:
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    put(tmp_path / "red.png", red)
    ds = decode_folder(scan_folder(tmp_path), size=8, channels=1)
    assert ds.images.shape == (1, 1, 8, 8) and (ds.images == round(LUMA_WEIGHTS[0] * 255)).all()
    with pytest.raises(ValueError):
        decode_folder(scan_folder(tmp_path), size=8, channels=2)


def test_decode_keeps_16bit_precision(tmp_path: Path) -> None:
    deep = (1000 + np.arange(64, dtype=np.uint16)).reshape(8, 8, 1)  # not multiples of 257
    put(tmp_path / "a_deep.png", deep)
    put(tmp_path / "b_flat.png", np.full((16, 16, 1), 12345, np.uint16))
    put(tmp_path / "c_8bit.png", np.full((8, 8, 1), 200, np.uint8))
    scan = scan_folder(tmp_path)
    ds = decode_folder(scan, size=8)
    assert ds.bit_depth == 16 and ds.images.dtype == np.uint16
    assert np.array_equal(ds.images[0, 0], deep[..., 0])
    assert (ds.images[1] == 12345).all()  # resized in float, not through 8 bits
    assert (ds.images[2] == 200 * 257).all()

    full = decode_folder(scan, size=None)
    assert isinstance(full.images, list) and full.images[1].shape == (1, 16, 16)
    assert np.array_equal(full.images[0][0], deep[..., 0])


def test_decode_failures_are_skipped(tmp_path: Path) -> None:
    put(tmp_path / "a" / "good.png", rand((16, 16, 3)))
    bad = put(tmp_path / "b" / "cut.jpg", rand((64, 64, 3)))
    bad.write_bytes(bad.read_bytes()[:-800])  # header fine, pixels truncated
    scan = scan_folder(tmp_path)
    assert len(scan.images) == 2
    ds = decode_folder(scan, size=8)
    assert [r.relpath for r in ds.records] == ["a/good.png"]
    assert ds.images.shape[0] == 1 and ds.labels == ("a",) and ds.label_index.tolist() == [0]
    assert len(ds.skipped) == 1 and "truncated or corrupt" in ds.skipped[0].reason

    bad2 = put(tmp_path / "only" / "cut.jpg", rand((64, 64, 3)))
    bad2.write_bytes(bad2.read_bytes()[:-800])
    with pytest.raises(DatasetError, match="no usable images"):
        decode_folder(scan_folder(tmp_path / "only"), size=8)


def test_decode_full_size_and_memory_limit(tmp_path: Path) -> None:
    arrays = {"a.png": rand((40, 60, 3)), "b.png": rand((10, 10, 3)), "c.png": rand((30, 20, 3))}
    for name, arr in arrays.items():
        put(tmp_path / name, arr)
    scan = scan_folder(tmp_path)
    ds = decode_folder(scan, size=None)
    assert ds.notes == ()
    for img, arr in zip(ds.images, arrays.values(), strict=True):
        assert np.array_equal(img, arr.transpose(2, 0, 1))

    limit = 3 * (1200 + 100 + 600)  # room for 1,900 pixels of the 3,100
    ds = decode_folder(scan, size=None, max_bytes=limit)
    assert sum(img.nbytes for img in ds.images) <= limit
    assert ds.images[1].shape == (3, 10, 10)  # small images stay as they are
    assert ds.images[0].shape[1] < 40 and len(ds.notes) == 1 and "downscaled" in ds.notes[0]

    with pytest.raises(DatasetError, match="more than the limit"):
        decode_folder(scan, size=64, max_bytes=1000)


def test_decode_stop(tmp_path: Path) -> None:
    for i in range(5):
        put(tmp_path / f"{i}.png", rand((8, 8, 3)))
    stop = threading.Event()
    stop.set()
    scan = scan_folder(tmp_path)
    with pytest.raises(ScanCancelled):
        decode_folder(scan, size=4, stop=stop)
    stop.clear()
    with pytest.raises(ScanCancelled):  # mid-run
        decode_folder(scan, size=None, stop=stop, progress=lambda d, t: stop.set())


# --------------------------------------------------------------------------- cache


def test_cache_reuse_and_invalidation(
    labelled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    scan = scan_folder(labelled)
    first = decode_folder(scan, size=16, cache_dir=cache)
    assert not first.from_cache and len(list(cache.glob("*.npy"))) == 1

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(decode_module, "read_image", no_decoding)
    calls: list[tuple[int, int]] = []
    second = decode_folder(
        scan_folder(labelled), size=16, cache_dir=cache, progress=lambda *a: calls.append(a)
    )
    assert second.from_cache and calls[-1] == (4, 4)
    assert np.array_equal(second.images, first.images)
    assert second.records == first.records and second.skipped == first.skipped
    assert second.label_index.tolist() == first.label_index.tolist()
    second.images[0, 0, 0, 0] ^= 1  # copy-on-write: the cache file is not changed

    monkeypatch.setattr(decode_module, "read_image", read_image)
    assert (
        decode_folder(scan, size=16, cache_dir=cache).images[0, 0, 0, 0] == first.images[0, 0, 0, 0]
    )

    # another size or a changed file is a different entry
    assert not decode_folder(scan, size=8, cache_dir=cache).from_cache
    put(labelled / "cats" / "b.png", rand((32, 32, 3)))
    os.utime(labelled / "cats" / "b.png", ns=(1, 1))
    assert not decode_folder(scan_folder(labelled), size=16, cache_dir=cache).from_cache


def test_cache_keeps_decode_failures_and_survives_corruption(tmp_path: Path) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    put(data / "good.png", rand((16, 16, 3)))
    bad = put(data / "cut.png", rand((64, 64, 3)))
    bad.write_bytes(bad.read_bytes()[:-3000])
    scan = scan_folder(data)
    first = decode_folder(scan, size=8, cache_dir=cache)
    second = decode_folder(scan, size=8, cache_dir=cache)
    assert second.from_cache and second.skipped == first.skipped and len(second) == 1

    for meta in cache.glob("*.json"):
        meta.write_text("{broken")
    third = decode_folder(scan, size=8, cache_dir=cache)
    assert not third.from_cache and np.array_equal(third.images, first.images)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AESTUDIO_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("AESTUDIO_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "aestudio"


def test_scan_result_is_plain_data(labelled: Path) -> None:
    scan = scan_folder(labelled)
    assert isinstance(scan, ScanResult) and isinstance(scan.images, tuple)
    with pytest.raises(AttributeError):
        scan.root = labelled  # type: ignore[misc]


# --------------------------------------------------------------------------- fewer file reads


def _mixed_folder(root: Path) -> Path:
    """Small PNGs of several layouts and sizes, a 16-bit one, a JPEG and a cut PNG."""
    for i in range(6):
        put(root / "a" / f"g{i}.png", rand((12, 12, 1)))
        put(root / "a" / f"c{i}.png", rand((12, 12, 3)))
        put(root / "b" / f"w{i}.png", rand((12, 20, 3)))  # resized
    put(root / "b" / "deep.png", rand((12, 12, 1), np.uint16))
    put(root / "b" / "photo.jpg", rand((16, 16, 3)))
    cut = put(root / "b" / "cut.png", rand((40, 40, 3)))
    cut.write_bytes(cut.read_bytes()[:-2000])
    return root


@pytest.mark.parametrize("channels", [1, 3])
def test_kept_bytes_decode_like_files(tmp_path: Path, channels: int) -> None:
    """Decoding from the bytes the scan kept (small PNGs together) equals reading the files."""
    scan = scan_folder(_mixed_folder(tmp_path / "data"))
    assert len(scan._kept) == len(scan.images)
    fresh = ScanResult(scan.root, scan.images, scan.skipped)  # nothing kept: files are read
    for size in (12, 8):
        kept = decode_folder(scan, size=size, channels=channels)
        read = decode_folder(fresh, size=size, channels=channels)
        assert kept.images.dtype == np.uint16 and np.array_equal(kept.images, read.images)
        assert kept.records == read.records and kept.skipped == read.skipped
        assert [s.path.name for s in kept.skipped] == ["cut.png"]
    full_kept, full_read = decode_folder(scan, size=None), decode_folder(fresh, size=None)
    for a, b in zip(full_kept.images, full_read.images, strict=True):
        assert np.array_equal(a, b)


def test_kept_bytes_spare_the_second_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = scan_folder(_mixed_folder(tmp_path / "data"))
    opened: list[str] = []
    real_read_image = decode_module.read_image

    def counting(path: object, *args: object, **kwargs: object) -> object:
        if kwargs.get("data") is None:
            opened.append(Path(str(path)).name)
        return real_read_image(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decode_module, "read_image", counting)
    ds = decode_folder(scan, size=12)
    assert opened == [] and len(ds) == len(scan.images) - 1


def test_rescan_opens_only_changed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _mixed_folder(tmp_path / "data")
    monkeypatch.setattr(scan_module, "_RACY_NS", 0)  # these files were written just now
    scan_module._HEADERS.clear()
    first = scan_folder(root)
    reads: list[str] = []
    real_read_file = scan_module.read_file

    def counting(path: object, *args: object) -> object:
        reads.append(Path(str(path)).name)
        return real_read_file(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_module, "read_file", counting)
    again = scan_folder(root)
    assert again.images == first.images and again.skipped == first.skipped
    assert reads == []
    assert not again._kept  # nothing read, nothing kept: the decode reads the files

    reads.clear()
    put(root / "a" / "g0.png", rand((14, 14, 1)))
    changed = scan_folder(root)
    assert reads == ["g0.png"]
    assert changed.images[[r.relpath for r in changed.images].index("a/g0.png")].info.width == 14
    monkeypatch.setattr(scan_module, "_RACY_NS", 2_000_000_000)
    scan_module._HEADERS.clear()


def test_to_gray_uses_the_shared_luma_weights() -> None:
    rgb = np.array([[[200, 100, 50]]], np.uint8)
    expected = round(sum(w * v for w, v in zip(LUMA_WEIGHTS, (200, 100, 50), strict=True)))
    assert to_gray(rgb).tolist() == [[[expected]]]


def test_scan_reports_what_the_walker_could_not_list(tmp_path: Path) -> None:
    put(tmp_path / "ok.png", rand((8, 8, 3)))
    try:
        os.symlink(tmp_path / "gone.png", tmp_path / "dangling.png")
    except (OSError, NotImplementedError):
        pytest.skip("no symlinks here")
    scan = scan_folder(tmp_path)
    assert [r.relpath for r in scan.images] == ["ok.png"]
    assert [(s.path.name, s.reason) for s in scan.skipped] == [
        ("dangling.png", "broken symbolic link")]
