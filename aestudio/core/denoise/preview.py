"""Denoising what the viewer looks at first: the compare view's engine, region by region.

:func:`denoise_preview` prepares the image the model sees (with synthetic noise when asked),
then denoises it region by region (:mod:`aestudio.core.denoise.regions`), always the region
nearest the part the viewer shows next (read from a :class:`~aestudio.core.denoise.regions.Focus`
before each region), so panning to an undone part makes it the next one done.

It reports through :class:`NoisyReady`, :class:`RegionDone` and :class:`AllDone`; each carries
the generation number of the request that started it, so a viewer can ignore whatever an
older, cancelled request still sends ("latest wins").

Importing this module does not import torch (the studio checks these events before the
engine is loaded); :func:`denoise_preview` loads the engine when it runs.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aestudio.core.denoise.regions import (
    DEFAULT_REGION,
    TILE_MULTIPLE,
    Focus,
    Region,
    context_margin,
    next_region,
    plan_regions,
)
from aestudio.core.events import EventCallback
from aestudio.core.io.convert import to_float

if TYPE_CHECKING:
    import torch

    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["AllDone", "NoisyReady", "RegionDone", "add_noise", "denoise_preview"]


@dataclass(frozen=True)
class NoisyReady:
    """The image the model sees (noise added when asked), and the clean one when known."""

    generation: int
    noisy: np.ndarray  # (H, W, C) float32, [0, 1] (synthetic noise is not clipped)
    reference: np.ndarray | None  # (H, W, C) float32 or None
    regions: tuple[Region, ...]
    model_size: int | None  # autoencoders: the side everything was resized to


@dataclass(frozen=True)
class RegionDone:
    """The model's output for one region's kept part."""

    generation: int
    region: Region
    pixels: np.ndarray  # (h, w, C) float32, not clipped


@dataclass(frozen=True)
class AllDone:
    """Every region is done."""

    generation: int
    seconds: float


def _hwc(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.permute(1, 2, 0).numpy(), dtype=np.float32)


def add_noise(clean: torch.Tensor, spec: str, seed: int) -> torch.Tensor:
    """``clean`` (C, H, W) with the noise ``spec``, drawn from a generator seeded by ``seed``.

    Parameters
    ----------
    clean : torch.Tensor
        Float image in [0, 1].
    spec : str
        A noise spec (:mod:`aestudio.core.data.noise`), e.g. ``"gaussian:25"``.
    seed : int
        The same seed always gives the same noise.

    Returns
    -------
    torch.Tensor
        A new tensor, or ``clean`` itself for ``"none"``.

    Raises
    ------
    aestudio.core.errors.NoiseSpecError
        For a spec that cannot be parsed.
    """
    import torch

    from aestudio.core.data.noise import parse_noise

    model = parse_noise(spec)
    if model.kind == "none":
        return clean
    generator = torch.Generator().manual_seed(int(seed))
    return model.apply(clean[None], generator)[0]


def denoise_preview(
    loaded: LoadedModel | None,
    image: np.ndarray,
    *,
    on_event: EventCallback,
    stop: threading.Event | None = None,
    generation: int = 0,
    reference: np.ndarray | None = None,
    noise: str = "none",
    seed: int = 0,
    focus: Focus | None = None,
    region_size: int = DEFAULT_REGION,
) -> AllDone | None:
    """Prepare the noisy image and denoise it region by region, the part in focus first.

    An autoencoder works at its own size: everything is resized to it (as training did) and
    reconstructed in one go.

    Parameters
    ----------
    loaded
        The model; None only prepares and reports the noisy image.
    image
        The opened image, (H, W, C) uint8 or uint16.
    on_event
        Called with :class:`NoisyReady`, then :class:`RegionDone` per region, then
        :class:`AllDone`.
    stop
        When set, the job returns None before the next region (or tile).
    generation
        Copied into every event, so that a newer request can overrule this one.
    reference
        A clean image of the same size, when there is one.
    noise
        A noise spec added to ``image`` first; the image then counts as the clean reference.
    seed
        Seed of that noise, so the same settings always give the same noise.
    focus
        Read before each region to do the shown part first.
    region_size
        Region side in pixels (before alignment).

    Returns
    -------
    AllDone or None
        None when stopped or without a model.
    """
    import torch

    from aestudio.core.data.noise import parse_noise
    from aestudio.core.denoise.apply import denoise_tensor
    from aestudio.core.denoise.tiling import InferenceCancelled
    from aestudio.core.models.inference import reconstruct, to_model_tensor

    started = time.perf_counter()
    stop = stop or threading.Event()
    focus = focus or Focus()
    clean = torch.from_numpy(to_float(image)).permute(2, 0, 1).contiguous()
    ref = torch.from_numpy(to_float(reference)).permute(2, 0, 1) if reference is not None \
        else None
    autoencoder = loaded is not None and loaded.model.kind == "autoencoder"
    size = loaded.model.image_size if autoencoder else None
    if autoencoder:
        channels = loaded.model.channels
        clean = to_model_tensor([image], channels, size)[0]
        if reference is not None:
            ref = to_model_tensor([reference], channels, size)[0]
    if noise and parse_noise(noise).kind != "none":
        noisy = add_noise(clean, noise, seed)
        if ref is None:
            ref = clean
    else:
        noisy = clean
    height, width = noisy.shape[-2:]
    if autoencoder:
        regions = [Region(0, 0, 0, width, height, (0, 0, width, height))]
    elif loaded is not None:
        margin, align = context_margin(loaded.model)
        # A wide-seeing model gets larger regions, so the margins stay a modest extra.
        regions = plan_regions(height, width, max(region_size, margin), margin, align)
    else:
        regions = []
    on_event(NoisyReady(generation, _hwc(noisy), _hwc(ref) if ref is not None else None,
                        tuple(regions), size))
    if loaded is None:
        return None
    if autoencoder:
        output = reconstruct(loaded.model, noisy[None].clamp(0, 1))[0]
        on_event(RegionDone(generation, regions[0], np.ascontiguousarray(output)))
    remaining = [] if autoencoder else list(regions)
    while remaining:
        if stop.is_set():
            return None
        region = next_region(remaining, focus.get())
        remaining.remove(region)
        x0, y0, x1, y1 = region.context
        part = noisy[:, y0:y1, x0:x1].contiguous()
        # One tile per region: the context is the whole input the network sees.
        tile = math.ceil(max(part.shape[-2:]) / TILE_MULTIPLE) * TILE_MULTIPLE
        try:
            out = denoise_tensor(loaded.model, part, tile=tile, stop=stop)
        except InferenceCancelled:
            return None
        top, left = region.y - y0, region.x - x0
        # Not clipped: the Amount mix uses the raw output, as the saved files do.
        kept = out[:, top:top + region.h, left:left + region.w]
        on_event(RegionDone(generation, region, _hwc(kept)))
    done = AllDone(generation, time.perf_counter() - started)
    on_event(done)
    return done
