"""Tests for aestudio.core.denoise.tiling."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from aestudio.core.denoise.tiling import (
    MIN_TILE,
    InferenceCancelled,
    TiledResult,
    choose_tile,
    tiled_apply,
)


def _image(c: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(c, h, w, generator=torch.Generator().manual_seed(seed))


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _conv_net(c_in: int, c_out: int | None = None) -> nn.Module:
    """Three 3x3 'same' convolutions: the output sees 3 pixels each way (< overlap // 4)."""
    torch.manual_seed(0)
    c_out = c_in if c_out is None else c_out
    net = nn.Sequential(
        nn.Conv2d(c_in, 8, 3, padding="same"),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding="same"),
        nn.Tanh(),
        nn.Conv2d(8, c_out, 3, padding="same"),
    )
    return net.eval()


def _whole(net: nn.Module, image: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(image[None])[0]


@pytest.mark.parametrize("shape", [(1, 37, 301), (3, 257, 129)])
def test_identity_equals_whole_image(shape: tuple[int, int, int]) -> None:
    image = _image(*shape)
    result = tiled_apply(_identity, image, tile=64, overlap=16)
    assert isinstance(result, TiledResult) and result.tile == 64
    assert result.image.shape == image.shape and result.image.dtype == torch.float32
    assert torch.allclose(result.image, image, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "multiple"), [((3, 257, 129), 8), ((1, 37, 301), 1), ((2, 130, 70), 1)]
)
def test_conv_net_equals_whole_image(shape: tuple[int, int, int], multiple: int) -> None:
    image = _image(*shape, seed=1)
    net = _conv_net(shape[0])
    result = tiled_apply(net, image, tile=64, overlap=16, multiple=multiple)
    assert (result.image - _whole(net, image)).abs().max() < 1e-4


def test_padding_to_multiple_matches_padded_whole_image() -> None:
    # 37 rows fit in one tile, padded by reflection to 40 for a "U-Net" that needs 8.
    image = _image(1, 37, 301, seed=2)
    net = _conv_net(1)

    def unet_like(x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-2] % 8 == 0 and x.shape[-1] % 8 == 0
        return net(x)

    result = tiled_apply(unet_like, image, tile=64, overlap=16, multiple=8)
    padded = F.pad(image[None], (0, 0, 0, 3), mode="reflect")[0]
    expected = _whole(net, padded)[:, :37]
    assert (result.image - expected).abs().max() < 1e-4


@pytest.mark.parametrize("shape", [(3, 20, 30), (1, 1, 1), (1, 1, 300), (3, 300, 1), (2, 5, 3)])
def test_small_images_and_strips(shape: tuple[int, int, int]) -> None:
    image = _image(*shape, seed=3)
    seen: list[tuple[int, ...]] = []

    def fn(x: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(x.shape))
        assert x.shape[-2] % 8 == 0 and x.shape[-1] % 8 == 0
        return x * 2

    result = tiled_apply(fn, image, tile=64, overlap=16)
    assert torch.allclose(result.image, image * 2, atol=1e-6)
    assert seen


def test_image_smaller_than_tile_with_conv_net() -> None:
    image = _image(3, 40, 50, seed=4)
    net = _conv_net(3)
    result = tiled_apply(net, image, tile=512, overlap=32, multiple=1)
    assert (result.image - _whole(net, image)).abs().max() < 1e-5


@pytest.mark.parametrize(("h", "w"), [(64, 64), (65, 65), (129, 63), (200, 97), (97, 1000)])
@pytest.mark.parametrize(("tile", "overlap"), [(64, 16), (32, 16), (64, 0), (48, 40)])
def test_weights_cover_every_pixel(h: int, w: int, tile: int, overlap: int) -> None:
    image = _image(1, h, w, seed=5)
    result = tiled_apply(_identity, image, tile=tile, overlap=overlap, multiple=8)
    assert torch.allclose(result.image, image, atol=1e-6)


def test_batched_tiles_and_channel_change() -> None:
    image = _image(3, 150, 170, seed=6)
    net = _conv_net(3, c_out=1)
    one = tiled_apply(net, image, tile=64, overlap=16, batch_tiles=1).image
    many = tiled_apply(net, image, tile=64, overlap=16, batch_tiles=5).image
    assert one.shape == (1, 150, 170)
    assert torch.allclose(one, many, atol=1e-5)
    assert (one - _whole(net, image)).abs().max() < 1e-4


def test_fn_runs_in_inference_mode_and_result_is_ordinary() -> None:
    modes: list[bool] = []

    def fn(x: torch.Tensor) -> torch.Tensor:
        modes.append(torch.is_inference_mode_enabled())
        return x

    result = tiled_apply(fn, _image(1, 100, 100), tile=64, overlap=16)
    assert modes and all(modes)
    result.image.add_(1)  # would raise for an inference tensor


def test_out_buffer_is_filled_in_place() -> None:
    image = _image(2, 90, 110, seed=7)
    out = np.full((2, 90, 110), np.nan, dtype=np.float32)
    result = tiled_apply(_identity, image, tile=64, overlap=16, out=out)
    assert np.shares_memory(result.image.numpy(), out)
    np.testing.assert_allclose(out, image.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="out must be a float32 array of shape"):
        tiled_apply(_identity, image, tile=64, out=np.zeros((2, 90, 111), np.float32))


def _oom_above(limit: int, calls: list[tuple[int, ...]], error: type[Exception] = RuntimeError):
    def fn(x: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(x.shape[-2:]))
        if max(x.shape[-2:]) > limit:
            raise error("CUDA out of memory. Tried to allocate 2.00 GiB")
        return x

    return fn


def test_out_of_memory_falls_back_to_smaller_tiles() -> None:
    image = _image(3, 300, 300, seed=8)
    calls: list[tuple[int, ...]] = []
    progress: list[tuple[int, int]] = []
    result = tiled_apply(
        _oom_above(128, calls),
        image,
        tile=512,
        overlap=16,
        progress=lambda d, t: progress.append((d, t)),
    )
    assert result.tile == 128
    assert torch.allclose(result.image, image, atol=1e-6)
    # 512 is cropped to the 300-pixel image, so the retries are 256 and then 128.
    assert calls[0] == (304, 304) and calls[1] == (256, 256) and calls[2] == (128, 128)
    assert progress[-1][0] == progress[-1][1]


def test_torch_out_of_memory_error_is_caught() -> None:
    oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    calls: list[tuple[int, ...]] = []
    result = tiled_apply(_oom_above(64, calls, oom), _image(1, 200, 200), tile=256, overlap=16)
    assert result.tile == MIN_TILE


def test_out_of_memory_at_the_floor_is_raised() -> None:
    calls: list[tuple[int, ...]] = []
    with pytest.raises(RuntimeError, match="out of memory"):
        tiled_apply(_oom_above(0, calls), _image(1, 600, 600), tile=512, overlap=16)
    assert [c[0] for c in calls] == [512, 256, 128, 64]


def test_other_errors_are_not_retried() -> None:
    calls = 0

    def fn(x: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        tiled_apply(fn, _image(1, 300, 300), tile=128, overlap=16)
    assert calls == 1


def test_progress_reports_every_tile_with_the_right_total() -> None:
    calls: list[tuple[int, int]] = []
    tiled_apply(
        _identity,
        _image(3, 257, 129),
        tile=64,
        overlap=16,
        progress=lambda d, t: calls.append((d, t)),
    )
    # Rows: ceil((257 - 64) / 48) + 1 = 6; columns: ceil((129 - 64) / 48) + 1 = 3.
    assert calls == [(i, 18) for i in range(1, 19)]
    batched: list[tuple[int, int]] = []
    tiled_apply(
        _identity,
        _image(3, 257, 129),
        tile=64,
        overlap=16,
        batch_tiles=4,
        progress=lambda d, t: batched.append((d, t)),
    )
    assert batched == [(4, 18), (8, 18), (12, 18), (16, 18), (18, 18)]


def test_stop_raises_inference_cancelled() -> None:
    stop = threading.Event()
    calls = 0

    def fn(x: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        return x

    def progress(done: int, total: int) -> None:
        if done == 2:
            stop.set()

    with pytest.raises(InferenceCancelled):
        tiled_apply(fn, _image(1, 200, 200), tile=64, overlap=16, progress=progress, stop=stop)
    assert calls == 2
    with pytest.raises(InferenceCancelled):
        tiled_apply(fn, _image(1, 20, 20), tile=64, stop=stop)
    assert calls == 2


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        tiled_apply(_identity, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="tile"):
        tiled_apply(_identity, torch.zeros(1, 8, 8), tile=0)
    with pytest.raises(ValueError, match="spatial size"):
        tiled_apply(lambda x: x[..., :-1], torch.zeros(1, 8, 8))


def test_choose_tile() -> None:
    assert choose_tile(4000, 6000, 3, "cpu") == 512
    assert choose_tile(100, 30, 3, "cpu") == 128
    assert choose_tile(1, 1, 1, "cpu") == MIN_TILE
    if torch.cuda.is_available():
        tile = choose_tile(4000, 6000, 3, "cuda")
        assert MIN_TILE <= tile <= 2048 and tile % 64 == 0
