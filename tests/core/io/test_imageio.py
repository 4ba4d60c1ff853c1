"""Tests for aestudio.core.io (read, write, convert, png16, png_fast, tiff): reading rules, bad inputs, round trips, metadata."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from aestudio.core.errors import ImageReadError
from aestudio.core.io import png16, png_fast, read, source, tiff
from aestudio.core.io.convert import from_float, to_float
from aestudio.core.io.formats import IMAGE_SUFFIXES, ImageInfo, ImageMetadata
from aestudio.core.io.read import read_header, read_image, read_metadata
from aestudio.core.io.write import write_image

RNG = np.random.default_rng(1234)


def rand(shape: tuple[int, ...], dtype: type = np.uint8) -> np.ndarray:
    return RNG.integers(0, np.iinfo(dtype).max + 1, size=shape, dtype=dtype)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation: int = 1, make: str = "aestudio-test") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make  # Make
    exif[0x0112] = orientation
    return exif.tobytes()


# --------------------------------------------------------------------------- a test PNG encoder


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _filter_rows(rows: np.ndarray, bpp: int, filters: list[int]) -> bytes:
    """Encode (h, rowbytes) uint8 rows with the given PNG filter type per row."""
    out = []
    prev = np.zeros(rows.shape[1], dtype=np.int16)
    for y, row in enumerate(rows.astype(np.int16)):
        kind = filters[y % len(filters)]
        left = np.concatenate([np.zeros(bpp, np.int16), row[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int16), prev[:-bpp]])
        if kind == 0:
            pred = np.zeros_like(row)
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = prev
        elif kind == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        out.append(bytes([kind]) + ((row - pred) % 256).astype(np.uint8).tobytes())
        prev = row
    return b"".join(out)


ADAM7 = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
]


def png16_bytes(arr: np.ndarray, colour_type: int, *, interlace: bool = False) -> bytes:
    """A 16-bit PNG using every filter type, optionally Adam7-interlaced."""
    h, w, c = arr.shape
    bpp = 2 * c
    filters = [0, 1, 2, 3, 4]
    if interlace:
        parts = []
        for x0, y0, dx, dy in ADAM7:
            sub = arr[y0::dy, x0::dx]
            if sub.size:
                rows = sub.astype(">u2").reshape(sub.shape[0], -1).view(np.uint8)
                parts.append(_filter_rows(rows, bpp, filters))
        raw = b"".join(parts)
    else:
        rows = arr.astype(">u2").reshape(h, -1).view(np.uint8)
        raw = _filter_rows(rows, bpp, filters)
    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, int(interlace))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def white_composite(colour: np.ndarray, alpha: np.ndarray, top: int) -> np.ndarray:
    a = alpha.astype(np.float64) / top
    return np.rint(colour * a + top * (1 - a)).astype(colour.dtype)


# --------------------------------------------------------------------------- conversions


def test_to_float_and_from_float() -> None:
    a8 = np.array([0, 128, 255], dtype=np.uint8)
    a16 = np.array([0, 257, 65535], dtype=np.uint16)
    assert to_float(a8).dtype == np.float32
    np.testing.assert_allclose(to_float(a8), [0, 128 / 255, 1])
    np.testing.assert_allclose(to_float(a16), [0, 257 / 65535, 1])
    assert np.array_equal(from_float(to_float(a8), np.uint8), a8)
    assert np.array_equal(from_float(to_float(a16), np.uint16), a16)
    clipped = from_float(np.array([-0.5, 0.5, 1.5, np.nan], dtype=np.float32), np.uint8)
    assert clipped.tolist() == [0, 128, 255, 0]
    with pytest.raises(TypeError):
        from_float(a8, np.uint8)
    with pytest.raises(TypeError):
        from_float(to_float(a8), np.float32)
    with pytest.raises(TypeError):
        to_float(np.array([1], dtype=np.int32))


# --------------------------------------------------------------------------- round trips


def test_suffixes() -> None:
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"} == IMAGE_SUFFIXES


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_8bit_lossless_round_trip(tmp_path: Path, channels: int, suffix: str) -> None:
    arr = rand((23, 31, channels))
    path = tmp_path / f"img{suffix}"
    write_image(path, arr)
    out, info = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (23, 31, channels)
    assert np.array_equal(out, arr)
    assert (info.width, info.height, info.channels, info.bit_depth) == (31, 23, channels, 8)
    assert read_header(path) == info


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("channels", [1, 3])
def test_16bit_round_trip_exact(tmp_path: Path, suffix: str, channels: int) -> None:
    arr = rand((19, 27, channels), np.uint16)
    path = tmp_path / f"img{suffix}"
    write_image(path, arr)
    out, info = read_image(path)
    assert out.dtype == np.uint16
    assert np.array_equal(out, arr)
    assert info.bit_depth == 16 and info.channels == channels
    assert info.mode == ("I;16" if channels == 1 else "RGB 16-bit")
    assert read_header(path) == info


def test_16bit_rgb_png_is_a_real_48bit_png(tmp_path: Path) -> None:
    arr = rand((5, 6, 3), np.uint16)
    path = tmp_path / "deep.png"
    write_image(path, arr)
    data = path.read_bytes()
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour_type) == (6, 5, 16, 2)
    with Image.open(path) as im:  # other readers accept it
        im.load()
        assert im.size == (6, 5)


def test_pillow_written_16bit_gray_png(tmp_path: Path) -> None:
    arr = rand((9, 11), np.uint16)
    Image.fromarray(arr).save(tmp_path / "g.png")
    out, info = read_image(tmp_path / "g.png")
    assert np.array_equal(out[..., 0], arr) and info.bit_depth == 16


@pytest.mark.parametrize("interlace", [False, True])
def test_16bit_png_all_filters(tmp_path: Path, interlace: bool) -> None:
    rgb = rand((13, 17, 3), np.uint16)
    path = tmp_path / "f.png"
    path.write_bytes(png16_bytes(rgb, 2, interlace=interlace))
    out, info = read_image(path)
    assert info.mode == "RGB 16-bit"
    assert np.array_equal(out, rgb)


def test_16bit_rgba_and_la_png_composited(tmp_path: Path) -> None:
    rgba = rand((8, 9, 4), np.uint16)
    rgba[0, :, 3] = 65535  # opaque row stays exact
    rgba[1, :, 3] = 0  # transparent row becomes white
    (tmp_path / "rgba.png").write_bytes(png16_bytes(rgba, 6))
    out, info = read_image(tmp_path / "rgba.png")
    assert info.channels == 3 and info.bit_depth == 16 and info.mode == "RGBA 16-bit"
    assert np.array_equal(out, white_composite(rgba[..., :3], rgba[..., 3:], 65535))
    assert np.array_equal(out[0], rgba[0, :, :3]) and (out[1] == 65535).all()

    la = rand((7, 5, 2), np.uint16)
    (tmp_path / "la.png").write_bytes(png16_bytes(la, 4))
    out, info = read_image(tmp_path / "la.png")
    assert out.shape == (7, 5, 1) and info.mode == "LA 16-bit"
    assert np.array_equal(out, white_composite(la[..., :1], la[..., 1:], 65535))


def test_16bit_tiff_layouts(tmp_path: Path) -> None:
    rgb = rand((10, 12, 3), np.uint16)
    tifffile.imwrite(
        tmp_path / "planar.tif", rgb.transpose(2, 0, 1), photometric="rgb", planarconfig="separate"
    )
    tifffile.imwrite(tmp_path / "be.tif", rgb, photometric="rgb", byteorder=">")
    tifffile.imwrite(tmp_path / "zip.tif", rgb, photometric="rgb", compression="zlib")
    for name in ("planar.tif", "be.tif", "zip.tif"):
        out, info = read_image(tmp_path / name)
        assert np.array_equal(out, rgb), name
        assert info.mode == "RGB 16-bit"


def test_tiff_compressions_keep_16_bits(tmp_path: Path) -> None:
    """LZW, zlib and PackBits 16-bit colour decode at full depth (tifffile + imagecodecs)."""
    rgb = rand((10, 12, 3), np.uint16)
    for compression in ("lzw", "zlib", "packbits"):
        path = tmp_path / f"{compression}.tif"
        tifffile.imwrite(path, rgb, photometric="rgb", compression=compression)
        out, info = read_image(path)
        assert np.array_equal(out, rgb), compression
        assert info.bit_depth == 16 and read_header(path) == info


def test_tiff_pillow_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages tifffile can't decode go through Pillow; 16-bit colour there is refused."""
    rgb8 = rand((10, 12, 3))
    tifffile.imwrite(tmp_path / "rgb8.tif", rgb8, photometric="rgb", compression="zlib")
    tifffile.imwrite(tmp_path / "rgb16.tif", rand((10, 12, 3), np.uint16), photometric="rgb")
    for module in (read, tiff):
        monkeypatch.setattr(module, "tifffile_can_decode", lambda page: False)
    out, info = read_image(tmp_path / "rgb8.tif")
    assert np.array_equal(out, rgb8) and info == read_header(tmp_path / "rgb8.tif")
    with pytest.raises(ImageReadError, match="16-bit colour"):
        read_image(tmp_path / "rgb16.tif")


def test_float_and_rgba_tiff(tmp_path: Path) -> None:
    values = np.array([[-0.5, 0.0, 0.5, 1.0, 2.0]], dtype=np.float32)
    tifffile.imwrite(tmp_path / "f.tif", values)
    out, info = read_image(tmp_path / "f.tif")
    assert out.dtype == np.uint16 and info.bit_depth == 16
    assert out[0, :, 0].tolist() == [0, 0, 32768, 65535, 65535]  # [0, 1] clipped, scaled

    rgba = rand((6, 7, 4))
    tifffile.imwrite(tmp_path / "a.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    out, info = read_image(tmp_path / "a.tif")
    assert info.channels == 3 and info.mode == "RGBA"
    assert np.array_equal(out, white_composite(rgba[..., :3], rgba[..., 3:], 255))


# --------------------------------------------------------------------------- reading rules


def test_mode_conversions(tmp_path: Path) -> None:
    rgba = rand((4, 6, 4))
    rgba[..., 3] = [[0, 255, 128, 0, 255, 64]] * 4
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    out, info = read_image(tmp_path / "rgba.png")
    assert info.mode == "RGBA" and info.channels == 3
    assert np.abs(out.astype(int) - white_composite(rgba[..., :3], rgba[..., 3:], 255)).max() <= 1
    assert (out[:, 0] == 255).all() and np.array_equal(out[:, 1], rgba[:, 1, :3])

    la = rand((4, 6, 2))
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    out, info = read_image(tmp_path / "la.png")
    assert out.shape == (4, 6, 1) and info.channels == 1
    assert np.abs(out.astype(int) - white_composite(la[..., :1], la[..., 1:], 255)).max() <= 1

    Image.fromarray(rand((5, 5, 1))[..., 0] > 127).save(tmp_path / "bw.png")  # mode "1"
    out, info = read_image(tmp_path / "bw.png")
    assert info.mode == "1" and out.shape == (5, 5, 1) and set(np.unique(out)) <= {0, 255}


def test_palette_conversions(tmp_path: Path) -> None:
    colour = Image.fromarray(rand((6, 8, 3))).quantize(16)
    colour.save(tmp_path / "p.png")
    out, info = read_image(tmp_path / "p.png")
    assert info.mode == "P" and info.channels == 3
    assert np.array_equal(out, np.asarray(colour.convert("RGB")))

    gray = Image.fromarray(rand((6, 8))).convert("P")  # a gray palette
    gray.putpalette([v for i in range(256) for v in (i, i, i)])
    gray.save(tmp_path / "pg.png")
    out, info = read_image(tmp_path / "pg.png")
    assert info.channels == 1 and out.shape == (6, 8, 1)
    assert read_header(tmp_path / "pg.png").channels == 1

    colour.save(tmp_path / "pt.png", transparency=0)  # index 0 transparent -> white
    out, _ = read_image(tmp_path / "pt.png")
    assert (out[np.asarray(colour) == 0] == 255).all()


def test_cmyk_to_rgb(tmp_path: Path) -> None:
    cmyk = Image.fromarray(rand((6, 7, 4)), "CMYK")
    cmyk.save(tmp_path / "c.tif")
    cmyk.save(tmp_path / "c.jpg", quality=100)
    out, info = read_image(tmp_path / "c.tif")
    assert info.mode == "CMYK" and info.channels == 3
    assert np.array_equal(out, np.asarray(cmyk.convert("RGB")))
    out, info = read_image(tmp_path / "c.jpg")
    assert info.format == "JPEG" and out.shape == (6, 7, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied(tmp_path: Path, orientation: int) -> None:
    arr = rand((4, 7, 3))
    im = Image.fromarray(arr)
    im.save(tmp_path / "o.png", exif=exif_bytes(orientation))
    im.save(tmp_path / "o.jpg", exif=exif_bytes(orientation), quality=100)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.png")))
    out, info = read_image(tmp_path / "o.png")
    assert np.array_equal(out, expected)
    assert (info.height, info.width) == expected.shape[:2]
    header = read_header(tmp_path / "o.jpg")
    assert (header.height, header.width) == expected.shape[:2]
    assert read_image(tmp_path / "o.jpg")[0].shape == expected.shape


def test_jpeg_draft_keeps_both_sides(tmp_path: Path) -> None:
    Image.fromarray(rand((200, 320, 3))).save(tmp_path / "big.jpg")
    out, info = read_image(tmp_path / "big.jpg", draft=40)
    assert min(out.shape[:2]) >= 40 and out.shape[0] < 200
    assert (info.width, info.height) == (out.shape[1], out.shape[0])


# --------------------------------------------------------------------------- bad inputs


def _expect(path: Path, words: str, **kwargs: int) -> None:
    with pytest.raises(ImageReadError, match=words):
        read_image(path, **kwargs)


def test_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "zero.png").write_bytes(b"")
    _expect(tmp_path / "zero.png", r"empty file \(0 bytes\)")
    with pytest.raises(ImageReadError, match="empty"):
        read_header(tmp_path / "zero.png")

    (tmp_path / "text.png").write_text("this is not a picture\n" * 10)
    _expect(tmp_path / "text.png", "^not an image$")
    with pytest.raises(ImageReadError, match="not an image"):
        read_header(tmp_path / "text.png")

    _expect(tmp_path / "missing.png", "file not found")
    _expect(tmp_path, "folder")

    png = tmp_path / "ok.png"
    Image.fromarray(rand((64, 64, 3))).save(png)
    (tmp_path / "badhead.png").write_bytes(png.read_bytes()[:20])
    _expect(tmp_path / "badhead.png", "truncated or corrupt")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_files(tmp_path: Path, suffix: str) -> None:
    full = tmp_path / f"full{suffix}"
    write_image(full, rand((64, 80, 3)))
    data = full.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    assert read_header(cut).width == 80  # the header alone is fine ...
    _expect(cut, "truncated or corrupt")  # ... the pixels are not


def test_truncated_16bit_png(tmp_path: Path) -> None:
    full = tmp_path / "full.png"
    write_image(full, rand((64, 80, 3), np.uint16))
    cut = tmp_path / "cut.png"
    cut.write_bytes(full.read_bytes()[:-5000])
    _expect(cut, "truncated or corrupt")


def test_too_many_pixels(tmp_path: Path) -> None:
    for suffix in (".png", ".jpg", ".tif"):
        path = tmp_path / f"big{suffix}"
        write_image(path, rand((30, 40, 1)))
        message = "too many pixels: 40x30 exceeds the limit of 1,000"
        with pytest.raises(ImageReadError, match=message):
            read_header(path, max_pixels=1000)
        _expect(path, message, max_pixels=1000)
        assert read_header(path, max_pixels=1200).width == 40


# --------------------------------------------------------------------------- writing


def test_write_refuses_floats_and_bad_shapes(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="float"):
        write_image(tmp_path / "f.tif", np.zeros((4, 4), np.float32))
    with pytest.raises(TypeError):
        write_image(tmp_path / "i.png", np.zeros((4, 4), np.int32))
    with pytest.raises(ValueError, match="shape|got"):
        write_image(tmp_path / "a.png", np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="format"):
        write_image(tmp_path / "a.gif", np.zeros((4, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_16bit_to_8bit_only_formats(tmp_path: Path) -> None:
    arr = (rand((6, 6, 3)).astype(np.uint16) * 257).astype(np.uint16)
    write_image(tmp_path / "x.bmp", arr)
    out, info = read_image(tmp_path / "x.bmp")
    assert info.bit_depth == 8 and np.array_equal(out.astype(np.uint16) * 257, arr)


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.png"
    old = rand((8, 8, 3), np.uint16)
    write_image(path, old)
    write_image(path, rand((8, 8, 3), np.uint16))  # replaces
    assert not np.array_equal(read_image(path)[0], old)
    before = path.read_bytes()

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(png16, "write", boom)
    with pytest.raises(OSError, match="disk full"):
        write_image(path, old)
    assert path.read_bytes() == before  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left


# --------------------------------------------------------------------------- metadata


def test_jpeg_keeps_exif_and_icc(tmp_path: Path) -> None:
    icc = srgb_icc()
    src = tmp_path / "src.jpg"
    Image.fromarray(rand((10, 14, 3))).save(
        src, exif=exif_bytes(orientation=6), icc_profile=icc, dpi=(300, 300)
    )
    meta = read_metadata(src)
    assert meta.format == "JPEG" and meta.bit_depth == 8
    assert meta.icc_profile == icc and meta.exif is not None and meta.dpi == (300.0, 300.0)

    pixels, _ = read_image(src)  # upright: 14 high, 10 wide
    assert pixels.shape == (14, 10, 3)
    out = tmp_path / "out.jpg"
    write_image(out, pixels, meta, quality=90)
    kept = read_metadata(out)
    assert kept.icc_profile == icc
    with Image.open(out) as im:
        exif = im.getexif()
        assert exif[0x010F] == "aestudio-test"
        assert exif[0x0112] == 1  # the pixels are upright now: no second rotation
    assert read_image(out)[0].shape == (14, 10, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_keeps_exif_icc_dpi(tmp_path: Path, dtype: type) -> None:
    meta = ImageMetadata("JPEG", 8, exif_bytes(3), srgb_icc(), (254.0, 254.0))
    path = tmp_path / "m.png"
    write_image(path, rand((5, 6, 3), dtype), meta)
    kept = read_metadata(path)
    assert kept.format == "PNG" and kept.bit_depth == np.dtype(dtype).itemsize * 8
    assert kept.icc_profile == meta.icc_profile
    assert kept.dpi is not None and kept.dpi == pytest.approx((254.0, 254.0), abs=0.1)
    exif = Image.Exif()
    exif.load(kept.exif)
    assert exif[0x010F] == "aestudio-test" and exif[0x0112] == 1


def test_tiff_keeps_icc_and_dpi(tmp_path: Path) -> None:
    meta = ImageMetadata("TIFF", 16, None, srgb_icc(), (600.0, 600.0))
    path = tmp_path / "m.tif"
    write_image(path, rand((5, 6, 3), np.uint16), meta)
    kept = read_metadata(path)
    assert kept == ImageMetadata("TIFF", 16, None, meta.icc_profile, (600.0, 600.0))


def test_webp_keeps_exif_and_icc(tmp_path: Path) -> None:
    meta = ImageMetadata("JPEG", 8, exif_bytes(1), srgb_icc(), None)
    path = tmp_path / "m.webp"
    write_image(path, rand((8, 8, 3)), meta, quality=80)
    kept = read_metadata(path)
    assert kept.format == "WEBP" and kept.icc_profile == meta.icc_profile
    assert kept.exif is not None and kept.exif.startswith(b"Exif\x00\x00")
    exif = Image.Exif()
    exif.load(kept.exif)
    assert exif[0x010F] == "aestudio-test"


# --------------------------------------------------------------------------- plain PNG path


def png8_bytes(arr: np.ndarray, colour_type: int, filters: list[int] | None = None) -> bytes:
    """An 8-bit PNG with the given filter types row by row (all five by default)."""
    h, w, c = arr.shape
    raw = _filter_rows(arr.reshape(h, w * c), c, filters or [0, 1, 2, 3, 4])
    ihdr = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _plain_png_samples() -> dict[str, bytes]:
    """Plain PNGs of every layout the fast path reads, and a few it leaves to Pillow."""
    opaque = rand((9, 11, 4))
    opaque[..., 3] = 255
    samples = {
        "gray": png8_bytes(rand((9, 11, 1)), 0),
        "rgb": png8_bytes(rand((9, 11, 3)), 2),
        "gray-alpha": png8_bytes(rand((9, 11, 2)), 4),
        "rgba": png8_bytes(rand((9, 11, 4)), 6),
        "rgba-opaque": png8_bytes(opaque, 6),
        "gray16": png16_bytes(rand((9, 11, 1), np.uint16), 0),
        "rgb16": png16_bytes(rand((9, 11, 3), np.uint16), 2),  # Pillow's path
        "interlaced": png16_bytes(rand((9, 11, 1), np.uint16), 0, interlace=True),
    }
    for name, kwargs in {"trns": {"transparency": 7}, "optimized": {"optimize": True}}.items():
        buffer = io.BytesIO()
        Image.fromarray(rand((9, 11))).save(buffer, "PNG", **kwargs)
        samples[name] = buffer.getvalue()
    return samples


def _outcome(path: Path) -> tuple:
    try:
        arr, info = read_image(path)
    except ImageReadError as e:
        return ("error", str(e))
    return ("ok", arr.dtype.str, arr.shape, arr.tobytes(), info, arr.flags.writeable)


def test_plain_png_path_matches_pillow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrays, infos and error messages are those of the Pillow path, broken files too."""
    rng = np.random.default_rng(7)
    variants: dict[str, bytes] = {}
    for name, data in _plain_png_samples().items():
        variants[name] = data
        variants[f"{name}-cut"] = data[: len(data) - 9]
        for k in range(6):  # flipped bits anywhere: header, checksums, pixel data
            flipped = bytearray(data)
            flipped[int(rng.integers(8, len(data)))] ^= 1 << int(rng.integers(8))
            variants[f"{name}-flip{k}"] = bytes(flipped)
    paths = {}
    for name, data in variants.items():
        paths[name] = tmp_path / f"{name}.png"
        paths[name].write_bytes(data)
    fast = {name: (_outcome(p), _header_outcome(p)) for name, p in paths.items()}
    monkeypatch.setattr(read, "plain_png", lambda data, whole: None)
    for name, path in paths.items():
        assert fast[name] == (_outcome(path), _header_outcome(path)), name


def _header_outcome(path: Path) -> ImageInfo | str:
    try:
        return read_header(path)
    except ImageReadError as e:
        return str(e)


def test_decode_small_pngs_matches_read_image(tmp_path: Path) -> None:
    samples = _plain_png_samples()
    files = [*samples.values(), *samples.values()]  # groups of more than one
    files.append(png8_bytes(rand((5, 4, 3)), 2, filters=[4]))  # a size of its own
    files.append(samples["rgb"][:-20])  # cut: left to read_image
    buffer = io.BytesIO()
    Image.fromarray(rand((9, 11, 3))).save(buffer, "JPEG")
    files.append(buffer.getvalue())  # not a PNG
    decoded = png_fast.decode_small_pngs(files)
    assert len(decoded) == len(files)
    for i, (data, arr) in enumerate(zip(files, decoded, strict=True)):
        path = tmp_path / f"{i}.img"
        path.write_bytes(data)
        if arr is None:
            continue
        expected, _ = read_image(path)
        assert arr.dtype == expected.dtype and np.array_equal(arr, expected), i
    done = [arr is not None for arr in decoded]
    names = [*samples, *samples]
    for name, ok in zip(names, done, strict=False):
        assert ok == (name not in ("rgb16", "interlaced", "trns")), name
    assert done[-3] and not done[-2] and not done[-1]

    bad_filter = bytearray(png8_bytes(rand((4, 4, 1)), 0, filters=[0]))
    rows = bytearray(zlib.decompress(bytes(bad_filter[41:-16])))
    rows[0] = 9  # no such filter type: the whole group is left to read_image
    broken = png8_bytes(np.zeros((4, 4, 1), np.uint8), 0, filters=[0])
    broken = broken[:33] + _chunk(b"IDAT", zlib.compress(bytes(rows))) + _chunk(b"IEND", b"")
    assert png_fast.decode_small_pngs([broken, png8_bytes(rand((4, 4, 1)), 0)]) == [None, None]


def test_read_file_and_given_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    write_image(path, rand((6, 7, 3)))
    data, status = source.read_file(path)
    assert data == path.read_bytes() and status.st_size == len(data)
    assert source.read_file(path, limit=10)[0] is None
    assert read_header(path, data=data) == read_header(path)
    arr, info = read_image(tmp_path / "elsewhere.png", data=data)  # the path is not opened
    assert np.array_equal(arr, read_image(path)[0]) and info == read_header(path)
    with pytest.raises(ImageReadError, match="empty"):
        read_image(path, data=b"")
    with pytest.raises(ImageReadError, match="file not found"):
        source.read_file(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="folder"):
        source.read_file(tmp_path)
