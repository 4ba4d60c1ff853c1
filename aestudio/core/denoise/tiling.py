"""Full-resolution inference in overlapping tiles, with bounded memory.

A fully convolutional network can denoise an image of any size, but not all at once: a
24-megapixel photo through a U-Net needs far more memory than one GPU has. :func:`tiled_apply`
cuts the image into overlapping tiles, runs the network on each, and blends the tiles back
into one preallocated output buffer, so memory holds one output image plus a batch of tiles.

How tiles are blended. Along each axis a tile's weight is 1, except near an edge that lies
inside the image: there the first ``overlap // 4`` pixels get weight 0 (the network saw
reflected padding instead of the real neighbours, so those pixels are wrong) and the rest of
the overlap ramps up smoothly (sin^2). A tile's weight is the product of its row and column
weights, and the tiles form a full grid, so the summed weight is itself separable: it is kept
as two 1-D vectors rather than an image-sized buffer. Every pixel has positive total weight.
For a pointwise ``fn`` the result equals a whole-image pass up to float rounding; for a
network whose receptive field reaches at most ``overlap // 4`` pixels it is equal up to
rounding too, and beyond that the seams fade smoothly.

On running out of GPU memory the whole image is redone with the tile side halved (down to
:data:`MIN_TILE`); :class:`TiledResult` says which tile size finally worked.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from aestudio.core.facts import MIN_TILE  # the tiler's floor, shared with the studio

__all__ = [
    "MIN_TILE",
    "InferenceCancelled",
    "TiledResult",
    "choose_tile",
    "tiled_apply",
]


# Rough count of float32 values a small denoising U-Net keeps alive per pixel at inference
# (e.g. 64 features in about four live maps); only used by choose_tile's heuristic.
_ACTIVATIONS_PER_PIXEL = 256
_MAX_GPU_TILE = 2048
_CPU_TILE = 512
_MPS_TILE = 1024


class InferenceCancelled(Exception):
    """Raised by :func:`tiled_apply` when its ``stop`` event is set."""


@dataclass(frozen=True)
class TiledResult:
    """What :func:`tiled_apply` returns.

    Attributes
    ----------
    image : torch.Tensor
        (C_out, H, W) float32 on the CPU. Shares memory with ``out`` when one was given.
    tile : int
        The tile side that succeeded; smaller than asked for after out-of-memory retries.
    """

    image: torch.Tensor
    tile: int


def _is_out_of_memory(exc: BaseException) -> bool:
    oom_types = tuple(
        t
        for t in (
            getattr(torch, "OutOfMemoryError", None),
            getattr(torch.cuda, "OutOfMemoryError", None),
        )
        if isinstance(t, type)
    )
    if oom_types and isinstance(exc, oom_types):
        return True
    # Older torch, MPS and some CUDA paths raise a plain RuntimeError instead.
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _release_device_memory(device: torch.device) -> None:
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps") and hasattr(torch.mps, "empty_cache"):
        torch.mps.empty_cache()


def _round_tile(tile: int, multiple: int) -> int:
    # Interior tiles then need no padding: only an image side shorter than a tile is padded.
    return max(multiple, tile - tile % multiple)


def _smaller_tile(tile: int, height: int, width: int, multiple: int) -> int | None:
    """Next tile side to try after out-of-memory, or None when at the floor."""
    smaller = tile // 2
    # A tile at least as large as the image is cropped to it, so halving it changes nothing.
    while smaller >= max(height, width):
        smaller //= 2
    smaller -= smaller % multiple
    return smaller if smaller >= MIN_TILE else None


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile start positions along one axis: first at 0, last ending at ``length``."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    count = math.ceil((length - tile) / stride) + 1
    span = length - tile
    # Spread the tiles evenly; consecutive starts differ by at most `stride`, so every
    # overlap is at least `overlap`.
    return [(i * span + (count - 1) // 2) // (count - 1) for i in range(count)]


def _edge_profile(overlap: int) -> torch.Tensor:
    """Weights from a tile's inner edge inwards: zeros, then a sin^2 ramp; then 1 beyond."""
    margin = overlap // 4
    ramp_len = overlap - 2 * margin
    t = (torch.arange(ramp_len, dtype=torch.float64) + 0.5) / ramp_len
    ramp = torch.sin(0.5 * math.pi * t) ** 2
    return torch.cat([torch.zeros(margin, dtype=torch.float64), ramp]).to(torch.float32)


def _axis_weights(start: int, size: int, length: int, overlap: int) -> torch.Tensor:
    weights = torch.ones(size, dtype=torch.float32)
    profile = _edge_profile(overlap)[:size]
    n = profile.numel()
    if n == 0:
        return weights
    # Only edges inside the image taper; at the image border there is no neighbour tile.
    if start > 0:
        weights[:n] *= profile
    if start + size < length:
        weights[size - n :] *= profile.flip(0)
    return weights


def _extend(x: torch.Tensor, pad: int, dim: int) -> torch.Tensor:
    """Pad the end of axis ``dim`` (-1 or -2) by reflection, repeating it if too short."""
    while pad > 0:
        size = x.shape[dim]
        if size == 1:
            # Nothing to reflect in a one-pixel strip: repeat its only row or column.
            reps = [1] * x.dim()
            reps[dim] = pad + 1
            return x.repeat(reps)
        # torch's reflect padding must be shorter than the axis; reflect again if needed.
        step = min(pad, size - 1)
        pads = (0, step, 0, 0) if dim == -1 else (0, 0, 0, step)
        x = F.pad(x, pads, mode="reflect")
        pad -= step
    return x


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    x = _extend(x, -h % multiple, dim=-2)
    return _extend(x, -w % multiple, dim=-1)


class _OutputBuffer:
    """The accumulation buffer: the caller's ``out`` array, or one tensor reused on retry."""

    def __init__(self, out: np.ndarray | None) -> None:
        self._out = out
        self._tensor: torch.Tensor | None = None

    def zeros(self, channels: int, height: int, width: int) -> torch.Tensor:
        shape = (channels, height, width)
        if self._out is not None:
            out = self._out
            if out.shape != shape or out.dtype != np.float32:
                raise ValueError(
                    f"out must be a float32 array of shape {shape}, got {out.dtype} {out.shape}"
                )
            if not (out.flags.c_contiguous and out.flags.writeable):
                raise ValueError("out must be a writeable, C-contiguous array")
            self._tensor = torch.from_numpy(out)
        elif self._tensor is None or tuple(self._tensor.shape) != shape:
            self._tensor = None  # drop an old buffer before allocating the new one
            self._tensor = torch.empty(shape, dtype=torch.float32)
        return self._tensor.zero_()


def _single_pass(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    tile: int,
    overlap: int,
    multiple: int,
    device: torch.device,
    batch_tiles: int,
    progress: Callable[[int, int], None] | None,
    stop: threading.Event | None,
    buffer: _OutputBuffer,
) -> torch.Tensor:
    _, height, width = image.shape
    overlap = min(overlap, tile // 2)
    th, tw = min(tile, height), min(tile, width)
    rows, cols = _starts(height, th, overlap), _starts(width, tw, overlap)
    row_w = [_axis_weights(y, th, height, overlap) for y in rows]
    col_w = [_axis_weights(x, tw, width, overlap) for x in cols]
    # The tiles form a full grid of separable weights, so the summed weight is separable.
    total_y = torch.zeros(height, dtype=torch.float32)
    total_x = torch.zeros(width, dtype=torch.float32)
    for y, w in zip(rows, row_w, strict=True):
        total_y[y : y + th] += w
    for x, w in zip(cols, col_w, strict=True):
        total_x[x : x + tw] += w
    if total_y.min() <= 0 or total_x.min() <= 0:  # cannot happen with overlap <= tile // 2
        raise RuntimeError("internal error: a pixel is covered by no tile")

    grid = [(i, j) for i in range(len(rows)) for j in range(len(cols))]
    total = len(grid)
    acc: torch.Tensor | None = None
    for first in range(0, total, batch_tiles):
        if stop is not None and stop.is_set():
            raise InferenceCancelled(f"inference cancelled after {first} of {total} tiles")
        batch = grid[first : first + batch_tiles]
        with torch.inference_mode():
            tiles = torch.stack(
                [image[:, rows[i] : rows[i] + th, cols[j] : cols[j] + tw] for i, j in batch]
            )
            tiles = _pad_to_multiple(tiles.to(device=device, dtype=torch.float32), multiple)
            result = fn(tiles)
            if not isinstance(result, torch.Tensor) or result.dim() != 4:
                raise TypeError("fn must return a (N, C, H, W) tensor")
            if result.shape[0] != len(batch) or result.shape[-2:] != tiles.shape[-2:]:
                raise ValueError(
                    f"fn must keep the batch and spatial size: got {tuple(result.shape)} "
                    f"for input {tuple(tiles.shape)}"
                )
            result = result[..., :th, :tw].to(device="cpu", dtype=torch.float32)
        if acc is None:
            acc = buffer.zeros(result.shape[1], height, width)
        for k, (i, j) in enumerate(batch):
            y, x = rows[i], cols[j]
            weight = row_w[i][:, None] * col_w[j][None, :]
            acc[:, y : y + th, x : x + tw].addcmul_(result[k], weight)
        del tiles, result  # free device memory before the next batch is sent
        if progress is not None:
            progress(first + len(batch), total)
    assert acc is not None  # the grid always has at least one tile
    acc.div_(total_y.view(1, height, 1))
    acc.div_(total_x.view(1, 1, width))
    return acc


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    *,
    tile: int = 512,
    overlap: int = 32,
    multiple: int = 8,
    device: torch.device | str = "cpu",
    batch_tiles: int = 1,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    out: np.ndarray | None = None,
) -> TiledResult:
    """Apply a fully convolutional ``fn`` to an image of any size, tile by tile.

    Parameters
    ----------
    fn : callable
        Maps a (B, C, h, w) float32 tensor on ``device`` to a (B, C_out, h, w) tensor (same
        batch and spatial size; any device). Called under ``torch.inference_mode()``; put a
        model in ``eval()`` mode first.
    image : torch.Tensor
        (C, H, W), normally float32 on the CPU; any size, including smaller than one tile,
        odd sizes and 1-pixel strips.
    tile : int, default 512
        Tile side in pixels, rounded down to a multiple of ``multiple``. A side of the image
        shorter than the tile is covered by one tile of that length.
    overlap : int, default 32
        Minimum overlap between neighbouring tiles, clamped to ``tile // 2``. The first
        ``overlap // 4`` pixels at a tile's inner edges are discarded, so a network whose
        receptive field reaches that far gives the whole-image result.
    multiple : int, default 8
        Tiles are padded at the bottom and right by reflection to a multiple of this (a U-Net
        with three 2x downsamplings needs 8); the padding is cropped from the output.
    device : torch.device or str, default "cpu"
        Where ``fn`` runs; tiles are moved there and results brought back to the CPU.
    batch_tiles : int, default 1
        Tiles per call of ``fn``.
    progress : callable, optional
        Called as ``progress(done, total)`` in tiles after each call of ``fn``. After an
        out-of-memory retry it starts again from 0 with the new total.
    stop : threading.Event, optional
        Checked before each call of ``fn``; when set, :class:`InferenceCancelled` is raised.
    out : numpy.ndarray, optional
        A float32, C-contiguous (C_out, H, W) array to accumulate into (for example a
        ``numpy.memmap`` for very large images); the result shares its memory.

    Returns
    -------
    TiledResult
        ``.image`` is the (C_out, H, W) float32 CPU result, ``.tile`` the tile side used.

    Raises
    ------
    InferenceCancelled
        When ``stop`` is set.
    torch.OutOfMemoryError or RuntimeError
        When even a :data:`MIN_TILE` tile (or the first tile, if smaller) runs out of memory.
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be a (C, H, W) tensor, got {shape}")
    if min(image.shape) < 1:
        raise ValueError(f"image is empty: shape {tuple(image.shape)}")
    checks = (("tile", tile, 1), ("multiple", multiple, 1), ("batch_tiles", batch_tiles, 1))
    for name, value, least in (*checks, ("overlap", overlap, 0)):
        if int(value) != value or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value}")
    device = torch.device(device)
    _, height, width = image.shape
    tile = _round_tile(int(tile), int(multiple))
    buffer = _OutputBuffer(out)
    while True:
        try:
            result = _single_pass(
                fn,
                image,
                tile,
                int(overlap),
                int(multiple),
                device,
                int(batch_tiles),
                progress,
                stop,
                buffer,
            )
            return TiledResult(image=result, tile=tile)
        except Exception as exc:
            if not _is_out_of_memory(exc):
                raise
            smaller = _smaller_tile(tile, height, width, int(multiple))
            if smaller is None:
                raise
        # Outside the except block the traceback, and the tiles its frames held, are gone,
        # so emptying the cache can actually return their memory.
        _release_device_memory(device)
        tile = smaller


def choose_tile(height: int, width: int, channels: int, device: torch.device | str) -> int:
    """Suggest a tile side for :func:`tiled_apply`: larger on a GPU with free memory.

    On CUDA the side is sized so that a tile's activations (a rough figure for a small
    U-Net) take about half the free memory, capped at 2048; on Apple MPS it is 1024 and on
    the CPU 512. It is never larger than the image needs (rounded up to a multiple of 64)
    and never below :data:`MIN_TILE`.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    channels : int
        Image channels.
    device : torch.device or str
        Where inference will run.

    Returns
    -------
    int
        A multiple of 64.
    """
    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        try:
            free, _ = torch.cuda.mem_get_info(device)
        except RuntimeError:
            free = 0
        bytes_per_pixel = 4 * (_ACTIVATIONS_PER_PIXEL + 3 * channels)
        side = int(math.sqrt(0.5 * free / bytes_per_pixel))
        tile = min(_MAX_GPU_TILE, side - side % 64)
    elif device.type == "mps":
        tile = _MPS_TILE
    else:
        tile = _CPU_TILE
    needed = math.ceil(max(height, width, 1) / 64) * 64
    return max(MIN_TILE, min(tile, needed))
