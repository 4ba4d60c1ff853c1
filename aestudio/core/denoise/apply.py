"""Denoising at full size: tiled, mixed precision, with amount, luma and chroma strengths."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from aestudio.core.denoise.mix import mix
from aestudio.core.denoise.tiling import choose_tile, tiled_apply
from aestudio.core.facts import LUMA_WEIGHTS
from aestudio.core.io.convert import from_float, to_float
from aestudio.core.models.base import ImageModel
from aestudio.core.models.denoiser import pad_to_multiple
from aestudio.core.models.inference import model_device
from aestudio.core.runtime.precision import autocast

__all__ = ["LUMA_WEIGHTS", "denoise_array", "denoise_tensor", "mix_denoised"]

# On a CPU a larger tile than the tiler's choice costs little memory (a few hundred MB of
# activations for the default denoiser) and spends less time on overlaps.
_CPU_AUTO_TILE = 1024


def _size_multiple(model: ImageModel) -> int:
    """The pixel grid the model's down-sampling works on (1 for plain convolutions)."""
    return int(getattr(model, "size_multiple", 1))


def _default_overlap(model: ImageModel) -> int:
    # The tiler drops the first quarter of each overlap and ramps over the rest, so an
    # overlap of about twice the receptive radius leaves seams far below one 8-bit level
    # for the denoisers here; capped to keep the extra work small on a CPU.
    reach = int(getattr(model, "reach", 16))
    return max(32, min(2 * reach, 128))


def denoise_tensor(
    model: ImageModel,
    x: torch.Tensor,
    *,
    tile: int | None = None,
    overlap: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    mixed_precision: bool = True,
) -> torch.Tensor:
    """Denoise a float image (C, H, W) at full resolution, tile by tile, on the model's device.

    Tiles start on the grid of the model's down-sampling (``model.size_multiple``), so a
    tile sees its pixels exactly as the whole image would. With an overlap of at least
    four times ``model.reach`` the tiled result equals the whole-image result up to float
    rounding; the default overlap (twice the reach, at most 128) keeps the difference far
    below one 8-bit level (see docs/denoise.md). A colour image
    given to a gray model is processed channel by channel; a gray image given to a colour
    model is repeated to RGB and averaged back.

    Parameters
    ----------
    model
        A full-resolution denoiser (any fully convolutional model).
    x
        (C, H, W) float image, nominally in [0, 1]; any size.
    tile
        Tile side in pixels (default: 1024 on a CPU; on a GPU, sized to its free memory).
    overlap
        Overlap of neighbouring tiles in pixels (default: from the model's reach).
    progress
        Called as ``progress(done, total)`` in tiles.
    stop
        When set, :class:`~aestudio.core.denoise.tiling.InferenceCancelled` is raised.
    mixed_precision
        Compute in bfloat16 (float16 on GPUs without it) where the hardware does so
        natively (see :mod:`aestudio.core.runtime.precision`), the result differing from
        float32 by well under one 8-bit level. False: float32.

    Returns
    -------
    torch.Tensor
        The denoised (C, H, W) float32 image on the CPU (not clipped).
    """
    model.eval()
    device = model_device(model)
    if model.channels == 1 and x.shape[0] == 3:
        planes = x[:, None]  # three gray images
    elif model.channels == 3 and x.shape[0] == 1:
        planes = x.repeat(3, 1, 1)[None]
    else:
        planes = x[None]
    height, width = x.shape[-2:]
    m = _size_multiple(model)
    if tile is None:
        tile = choose_tile(height, width, model.channels, device)
        if device.type == "cpu":
            tile = max(tile, _CPU_AUTO_TILE)
    if overlap is None:
        overlap = _default_overlap(model)
    # Work on m x m pixel blocks: the tiler then cuts only between blocks, on the model's grid.
    block_tile = max(1, -(-int(tile) // m))
    block_overlap = -(-int(overlap) // m)

    def apply_blocks(blocks: torch.Tensor) -> torch.Tensor:
        pixels = F.pixel_shuffle(blocks, m) if m > 1 else blocks
        with autocast(device, enabled=mixed_precision):
            out = model(pixels).float()
        return F.pixel_unshuffle(out, m) if m > 1 else out

    outputs = []
    for k, plane in enumerate(planes):
        kwargs: dict = {"tile": block_tile, "overlap": block_overlap, "multiple": 1,
                        "device": device, "stop": stop}
        if progress is not None:
            def plane_progress(done: int, total: int, k: int = k) -> None:
                progress(k * total + done, total * len(planes))

            kwargs["progress"] = plane_progress
        blocks = pad_to_multiple(plane[None].float(), m)
        if m > 1:
            blocks = F.pixel_unshuffle(blocks, m)
        result = tiled_apply(apply_blocks, blocks[0].contiguous(), **kwargs).image
        del blocks
        if m > 1:
            result = F.pixel_shuffle(result[None], m)[0, :, :height, :width]
        outputs.append(result)
    y = torch.cat(outputs, dim=0) if len(planes) > 1 else outputs[0]
    if y.shape[0] != x.shape[0]:
        y = y.mean(0, keepdim=True)
    return y.contiguous()


def mix_denoised(noisy: torch.Tensor, denoised: torch.Tensor, *, amount: float = 1.0,
                 luma: float = 1.0, chroma: float = 1.0) -> torch.Tensor:
    """Blend a denoised (C, H, W) or (N, C, H, W) image with its input.

    :func:`aestudio.core.denoise.mix.mix` on channels-first tensors: ``amount`` 0 keeps the
    input, ``luma`` and ``chroma`` (each 0 to 1) set the strengths of the luminance and the
    colour correction (``luma=0, chroma=1`` removes colour noise and keeps film grain).

    Returns
    -------
    torch.Tensor
        A new tensor (or ``denoised`` itself when all strengths are 1).
    """
    return mix(noisy, denoised, amount=amount, luma=luma, chroma=chroma, channel_axis=-3)


def denoise_array(model: ImageModel, image: np.ndarray, *, amount: float = 1.0,
                  luma: float = 1.0, chroma: float = 1.0, **kwargs: object) -> np.ndarray:
    """Denoise an integer (H, W, C) image; the result keeps its shape and dtype (8 or 16 bit).

    ``amount``, ``luma`` and ``chroma`` go to :func:`mix_denoised`, other keyword
    arguments to :func:`denoise_tensor`.
    """
    x = torch.from_numpy(to_float(image)).permute(2, 0, 1).contiguous()
    y = denoise_tensor(model, x, **kwargs)
    y = mix_denoised(x, y, amount=amount, luma=luma, chroma=chroma)
    return from_float(y.permute(1, 2, 0).numpy(), image.dtype)
