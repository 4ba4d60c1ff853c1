"""Full-resolution denoising guarantees: tiles equal the whole image, files keep their bit
depth, stem and metadata, odd sizes work, inputs are never overwritten, film-scan mixing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from aestudio.core.denoise.apply import LUMA_WEIGHTS, denoise_array, denoise_tensor, mix_denoised
from aestudio.core.denoise.batch import denoise_file, denoise_files
from aestudio.core.io.formats import ImageMetadata
from aestudio.core.io.read import read_image, read_metadata
from aestudio.core.io.write import write_image
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import LoadedModel, load_model_file, save_model_file


def _random_denoiser(channels: int = 1, **options) -> torch.nn.Module:
    """A random-init denoiser whose output really depends on its input (a fresh residual
    denoiser starts close to the identity)."""
    torch.manual_seed(0)
    model = create_model("denoiser", channels=channels, **{"width": 8, "depth": 2, **options})
    last = model.net.out if model.config.arch == "unet" else model.net.body[-1]
    last.reset_parameters()
    return model.eval()


def _loaded(tmp_path: Path, channels: int = 1) -> LoadedModel:
    path = save_model_file(tmp_path / "model.aemodel", _random_denoiser(channels),
                           train={"task": "denoise", "noise": "gaussian:25"})
    return load_model_file(path)


_ICC: list[bytes] = []


def _icc() -> bytes:
    """An sRGB profile (made once: a new one carries a new creation time)."""
    if not _ICC:
        _ICC.append(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    return _ICC[0]


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Acme"  # Make
    exif[0x0110] = "FilmScan 9000"  # Model
    return exif.tobytes()


@pytest.mark.parametrize("options", [{"unshuffle": 1}, {"unshuffle": 2},
                                     {"arch": "dncnn", "depth": 6, "unshuffle": 2}])
def test_tiles_give_the_whole_image_result(options: dict) -> None:
    model = _random_denoiser(**options)
    x = torch.rand(1, 520, 700)
    with torch.inference_mode():
        whole = model(x[None])[0]
    # The tiler drops a quarter of each overlap: with that beyond the network's reach,
    # the tiles see exactly what the whole image sees.
    assert model.reach <= 256 // 4
    tiled = denoise_tensor(model, x, tile=512, overlap=256, mixed_precision=False)
    assert tiled.shape == x.shape
    # Far below one 16-bit level (1.5e-5): seams would be invisible in any output file.
    assert (tiled - whole).abs().max() < 2e-6


def test_default_tiles_stay_within_a_fraction_of_an_eight_bit_level() -> None:
    model = _random_denoiser(3, unshuffle=2)
    x = torch.rand(3, 150, 233)
    with torch.inference_mode():
        whole = model(x[None])[0]
    tiled = denoise_tensor(model, x, tile=64, mixed_precision=False)
    assert (tiled - whole).abs().max() < 0.25 / 255


def test_mixed_precision_stays_within_an_eight_bit_level() -> None:
    from aestudio.core.runtime.precision import mixed_precision_dtype, to_channels_last

    if mixed_precision_dtype("cpu") is None:
        pytest.skip("this CPU has no native bfloat16: float32 only")
    model = to_channels_last(_random_denoiser(3, unshuffle=2))
    x = torch.rand(3, 150, 233)
    exact = denoise_tensor(model, x, tile=64, mixed_precision=False)
    fast = denoise_tensor(model, x, tile=64)
    difference = (fast - exact).abs()
    assert 0 < difference.max() < 1 / 255  # bfloat16 was used, and stays below one level
    assert difference.mean() < 0.1 / 255


@pytest.mark.parametrize("shape", [(1, 97, 45), (3, 1, 7), (1, 5, 300)])
def test_odd_and_tiny_sizes_work(shape: tuple[int, int, int]) -> None:
    model = _random_denoiser(unshuffle=2)
    y = denoise_tensor(model, torch.rand(shape), tile=64)
    assert y.shape == shape and torch.isfinite(y).all()


def test_denoise_array_keeps_shape_and_dtype() -> None:
    model = _random_denoiser()
    image = np.random.default_rng(0).integers(0, 65535, (97, 45, 1), dtype=np.uint16)
    out = denoise_array(model, image, tile=64)
    assert out.shape == image.shape and out.dtype == np.uint16


def test_sixteen_bit_gray_png_keeps_depth_stem_exif_and_icc(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path)
    source = tmp_path / "in" / "roll07_frame12.png"
    source.parent.mkdir()
    pixels = np.random.default_rng(1).integers(0, 65535, (61, 83), dtype=np.uint16)
    write_image(source, pixels, ImageMetadata("PNG", 16, _exif(), _icc(), (2400.0, 2400.0)))
    before = source.read_bytes()
    [(src, target)] = denoise_files(loaded, [source], tmp_path / "out").done
    assert src == source and target == tmp_path / "out" / "roll07_frame12.png"
    result, info = read_image(target)
    assert result.dtype == np.uint16 and result.shape == (61, 83, 1) and info.bit_depth == 16
    meta = read_metadata(target)
    assert meta.icc_profile == _icc()
    assert meta.exif is not None and b"FilmScan 9000" in meta.exif
    assert meta.dpi is not None and round(meta.dpi[0]) == 2400
    assert source.read_bytes() == before


def test_forty_eight_bit_rgb_tiff_keeps_depth_stem_and_icc(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, channels=3)
    source = tmp_path / "slide.tif"
    pixels = np.random.default_rng(2).integers(0, 65535, (40, 57, 3), dtype=np.uint16)
    write_image(source, pixels, ImageMetadata("TIFF", 16, None, _icc(), (4000.0, 4000.0)))
    target = denoise_file(loaded, source, tmp_path / "out" / "slide.tif", chroma=1.0, luma=0.5)
    result, info = read_image(target)
    assert result.dtype == np.uint16 and result.shape == (40, 57, 3) and info.format == "TIFF"
    meta = read_metadata(target)
    assert meta.icc_profile == _icc() and meta.dpi is not None


def test_sidecar_names_the_model_and_settings(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, channels=3)
    source = tmp_path / "photo.png"
    write_image(source, np.random.default_rng(3).integers(0, 255, (30, 20, 3), dtype=np.uint8))
    target = denoise_file(loaded, source, tmp_path / "photo-denoised.png", amount=0.8, luma=0.25,
                          chroma=1.0, tile=64)
    sidecar = json.loads(target.with_name(target.name + ".json").read_text())
    assert sidecar["model"] == "denoiser"
    assert sidecar["model_config"]["channels"] == 3
    assert sidecar["model_training"] == {"task": "denoise", "noise": "gaussian:25"}
    settings = dict(sidecar["settings"])
    assert settings.pop("precision") in ("float32", "bfloat16")
    assert settings == {"amount": 0.8, "luma": 0.25, "chroma": 1.0, "tile": 64}
    assert sidecar["source"] == str(source) and sidecar["bit_depth"] == 8


def test_inputs_are_never_overwritten(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path)
    folder = tmp_path / "scans"
    folder.mkdir()
    sources = []
    for i in range(2):
        path = folder / f"scan{i}.png"
        write_image(path, np.full((20, 24), 40 * i + 10, np.uint8))
        sources.append(path)
    before = {p: p.read_bytes() for p in sources}
    with pytest.raises(ValueError, match="overwrite"):
        denoise_file(loaded, sources[0], sources[0])
    written = denoise_files(loaded, sources, folder).written  # output folder = input folder
    assert [t.name for t in written] == ["scan0-1.png", "scan1-1.png"]
    assert all(p.read_bytes() == data for p, data in before.items())


def _luma(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("chw,c->hw", x, torch.tensor(LUMA_WEIGHTS))


def test_chroma_only_removes_colour_noise_and_keeps_grain() -> None:
    gen = torch.Generator().manual_seed(0)
    noisy, denoised = torch.rand(3, 8, 9, generator=gen), torch.rand(3, 8, 9, generator=gen)
    out = mix_denoised(noisy, denoised, luma=0.0, chroma=1.0)
    assert torch.allclose(_luma(out), _luma(noisy), atol=1e-6)  # grain (luminance) kept
    assert torch.allclose(out - _luma(out), denoised - _luma(denoised), atol=1e-6)  # colour
    half = mix_denoised(noisy, denoised, luma=0.5, chroma=0.0)
    assert torch.allclose(_luma(half), 0.5 * (_luma(noisy) + _luma(denoised)), atol=1e-6)
    assert torch.allclose(half - _luma(half), noisy - _luma(noisy), atol=1e-6)


def test_mix_strengths_and_limits() -> None:
    noisy, denoised = torch.zeros(1, 4, 4), torch.ones(1, 4, 4)
    assert mix_denoised(noisy, denoised) is denoised
    assert torch.allclose(mix_denoised(noisy, denoised, amount=0.5, luma=0.5), noisy + 0.25)
    assert torch.equal(mix_denoised(noisy, denoised, luma=0.0, chroma=1.0), noisy)  # gray
    rgb = torch.rand(2, 3, 4, 4)
    assert torch.allclose(mix_denoised(rgb, rgb + 1, luma=0.3, chroma=0.3), rgb + 0.3)
    with pytest.raises(ValueError, match="luma"):
        mix_denoised(noisy, denoised, luma=1.5)


def test_patches_come_from_images_in_proportion_to_their_area() -> None:
    from aestudio.core.data.training_data import from_arrays

    small = np.zeros((1, 16, 16), np.uint8)
    large = np.full((1, 64, 64), 255, np.uint8)  # 16 times the area
    data = from_arrays([small, large, small], patch=16, val_fraction=0.0)
    patches = data.batch(torch.arange(680), torch.Generator().manual_seed(0))
    share_large = float((patches.mean(dim=(1, 2, 3)) > 0.5).float().mean())
    assert abs(share_large - 16 / 18) < 0.05


def test_command_line_passes_luma_and_chroma(tmp_path: Path) -> None:
    from aestudio.cli import main

    loaded = _loaded(tmp_path, channels=3)
    model = tmp_path / "model.aemodel"
    assert loaded.meta["architecture"] == "denoiser" and model.is_file()
    source = tmp_path / "frame.png"
    # Mid-range values: the colour change never reaches 0 or 255, where it would be clipped.
    write_image(source, np.random.default_rng(4).integers(80, 176, (24, 31, 3), dtype=np.uint8))
    assert main(["denoise", str(model), str(source), "--out", str(tmp_path / "out"),
                 "--luma", "0", "--chroma", "1", "--device", "cpu"]) == 0
    sidecar = json.loads((tmp_path / "out" / "frame.png.json").read_text())
    assert sidecar["settings"]["luma"] == 0.0 and sidecar["settings"]["chroma"] == 1.0
    noisy, _ = read_image(source)
    out, _ = read_image(tmp_path / "out" / "frame.png")
    weights = np.array(LUMA_WEIGHTS)
    # Luma 0: the brightness of every pixel stays (up to 8-bit rounding).
    assert np.abs(out.astype(float) @ weights - noisy.astype(float) @ weights).max() <= 1.0



def test_colour_by_planes_denoises_each_opponent_plane_with_one_gray_network() -> None:
    from aestudio.core.models import make_config

    model = _random_denoiser(3, planes=True, unshuffle=2)
    assert model.net.inc[0].in_channels == 4  # one gray plane, unshuffled 2 x 2
    x = torch.rand(2, 3, 45, 70)
    with torch.inference_mode():
        y = model(x)
        # The colour transform is orthonormal and undone exactly: with the network's output
        # zeroed, the model is the identity.
        last = model.net.out
        saved = last.weight.clone(), last.bias.clone()
        last.weight.zero_()
        last.bias.zero_()
        identity = model(x)
        last.weight.copy_(saved[0])
        last.bias.copy_(saved[1])
    assert y.shape == x.shape and (y - x).abs().max() > 1e-3
    assert (identity - x).abs().max() < 1e-5
    big = torch.rand(3, 300, 380)
    with torch.inference_mode():
        whole = model(big[None])[0]
    assert model.reach <= 240 // 4
    tiled = denoise_tensor(model, big, tile=256, overlap=240, mixed_precision=False)
    assert (tiled - whole).abs().max() < 2e-6  # fixed plane offsets: tiles match the whole
    # Files written before the option existed have no "planes" key: red, green and blue.
    assert make_config("denoiser", {"channels": 3, "width": 8}).planes is False
