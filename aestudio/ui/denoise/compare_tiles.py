"""Denoising what the viewer looks at first: regions ordered by the viewport, done in a worker.

The image is cut into square regions. Each region is denoised together with a margin of
real neighbouring pixels that is cropped away afterwards, so the network sees the same
context as in a whole-image pass and no seam can appear. Regions start on a grid aligned
to the network's down-sampling factor, so a U-Net sees every region in the same phase as
the whole image. The next region is always the one nearest the part of the image the panes
show (:class:`Focus`, updated from the UI thread), so panning to an undone region makes it
the next one done.

The job reports through :class:`NoisyReady`, :class:`RegionDone` and :class:`AllDone`;
each carries the generation number of the request that started it, so the view can ignore
whatever an older, cancelled request still sends ("latest wins").

Importing this module does not import torch (the main window opens before torch is
loaded); the jobs import the engine when they run, in their worker thread.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from aestudio.core.io.convert import to_float
from aestudio.ui.common.workers import JobFn, Worker

if TYPE_CHECKING:
    import torch

    from aestudio.core.models.modelfile import LoadedModel

DEFAULT_REGION = 256
MIN_MARGIN = 32
TILE_MULTIPLE = 8  # region origins lie on at least this grid


@dataclass(frozen=True)
class Region:
    """A block of the image: ``x, y, w, h`` is kept, ``context`` (x0, y0, x1, y1) is denoised."""

    index: int
    x: int
    y: int
    w: int
    h: int
    context: tuple[int, int, int, int]

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


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
    generation: int
    region: Region
    pixels: np.ndarray  # (h, w, C) float32, the model's output for the kept part


@dataclass(frozen=True)
class AllDone:
    generation: int
    seconds: float


class Focus:
    """The image rectangle the panes show; written by the UI thread, read by the worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rect: tuple[float, float, float, float] | None = None

    def set(self, x0: float, y0: float, x1: float, y1: float) -> None:
        with self._lock:
            self._rect = (x0, y0, x1, y1)

    def get(self) -> tuple[float, float, float, float] | None:
        with self._lock:
            return self._rect


def context_margin(loaded: LoadedModel) -> tuple[int, int]:
    """The margin (pixels) each region is denoised with, and the grid its origins lie on.

    Returns
    -------
    tuple of int
        ``(margin, align)``: the margin is at least 32 pixels and at least the network's
        reach (how far an output pixel sees), both are multiples of ``align``, which is a
        multiple of the network's down-sampling grid (and at least 8).
    """
    model = loaded.model
    # Denoisers say how far they see and on which grid; for any other fully convolutional
    # model a generous guess keeps seams rare.
    reach = int(getattr(model, "reach", 2 * MIN_MARGIN))
    multiple = int(getattr(model, "size_multiple", 2 * MIN_MARGIN))
    align = math.lcm(TILE_MULTIPLE, max(1, multiple))
    margin = math.ceil(max(MIN_MARGIN, reach) / align) * align
    return margin, align


def _context_span(start: int, length: int, total: int, margin: int, align: int,
                  span: int) -> tuple[int, int]:
    """Context [lo, hi) along one axis: ``span`` long where the image allows.

    Every context has the same length except at the far border, so the network meets a
    handful of input shapes only (on a CPU the first run of each new shape is slow). Its start
    stays on the ``align`` grid, and it holds at least ``margin`` real pixels on each side of
    the kept part, or reaches the image border.
    """
    if total <= span:
        return 0, total
    lo = max(0, start - margin)
    if lo + span <= total:
        return lo, lo + span
    lo = (total - span) // align * align  # the last context ends at the border
    return lo, total


def plan_regions(height: int, width: int, size: int, margin: int, align: int) -> list[Region]:
    """Cut an image into regions of ``size`` (rounded up to ``align``), row by row.

    Parameters
    ----------
    height, width : int
        The image size.
    size : int
        Region side before rounding.
    margin : int
        Context on every side inside the image (a multiple of ``align``).
    align : int
        Region and context origins are multiples of this.
    """
    size = max(align, math.ceil(size / align) * align)
    span = size + 2 * margin
    regions: list[Region] = []
    for y in range(0, height, size):
        for x in range(0, width, size):
            h, w = min(size, height - y), min(size, width - x)
            x0, x1 = _context_span(x, w, width, margin, align, span)
            y0, y1 = _context_span(y, h, height, margin, align, span)
            regions.append(Region(len(regions), x, y, w, h, (x0, y0, x1, y1)))
    return regions


def focus_order(regions: list[Region],
                focus: tuple[float, float, float, float] | None) -> list[Region]:
    """``regions`` sorted for doing: those the panes show first, each group by distance
    from the middle of what the panes show."""
    if focus is None:
        return list(regions)
    fx0, fy0, fx1, fy1 = focus
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2

    def key(r: Region) -> tuple[bool, float]:
        visible = r.x < fx1 and r.x + r.w > fx0 and r.y < fy1 and r.y + r.h > fy0
        distance = (r.x + r.w / 2 - cx) ** 2 + (r.y + r.h / 2 - cy) ** 2
        return (not visible, distance)

    return sorted(regions, key=key)


def next_region(remaining: list[Region],
                focus: tuple[float, float, float, float] | None) -> Region:
    """The region to do next: one the panes show, nearest their centre; else the nearest."""
    return focus_order(remaining, focus)[0]


def _hwc(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.permute(1, 2, 0).numpy(), dtype=np.float32)


def add_noise(clean: torch.Tensor, spec: str, seed: int) -> torch.Tensor:
    """``clean`` (C, H, W) with the noise ``spec``, drawn from a generator seeded by ``seed``."""
    import torch

    from aestudio.core.data.noise import parse_noise

    model = parse_noise(spec)
    if model.kind == "none":
        return clean
    generator = torch.Generator().manual_seed(int(seed))
    return model.apply(clean[None], generator)[0]


def compare_job(
    generation: int,
    loaded: LoadedModel | None,
    image: np.ndarray,
    *,
    reference: np.ndarray | None = None,
    noise: str = "none",
    seed: int = 0,
    focus: Focus | None = None,
    region_size: int = DEFAULT_REGION,
) -> JobFn:
    """A worker job that prepares the noisy image and denoises it region by region.

    Parameters
    ----------
    generation
        Copied into every event, so that a newer request can overrule this one.
    loaded
        The model; None only prepares and shows the noisy image.
    image
        The opened image, (H, W, C) uint8 or uint16.
    reference
        A clean image of the same size, when the user has one.
    noise
        A noise spec (``core.noise``) added to ``image`` first; the image then counts as
        the clean reference.
    seed
        Seed of that noise, so the same settings always give the same noise.
    focus
        Read before each region to do the visible part first.
    region_size
        Region side in pixels (before alignment).
    """
    focus = focus or Focus()

    def job(worker: Worker) -> AllDone | None:
        import torch

        from aestudio.core.data.noise import parse_noise
        from aestudio.core.denoise.apply import denoise_tensor
        from aestudio.core.denoise.tiling import InferenceCancelled
        from aestudio.core.models.inference import reconstruct, to_model_tensor

        started = time.perf_counter()
        stop = worker.stop_event
        clean = torch.from_numpy(to_float(image)).permute(2, 0, 1).contiguous()
        ref = torch.from_numpy(to_float(reference)).permute(2, 0, 1) if reference is not None \
            else None
        autoencoder = loaded is not None and loaded.model.kind == "autoencoder"
        size = loaded.model.image_size if autoencoder else None
        if autoencoder:
            # The model works at its own size: resize (as training did), then reconstruct.
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
            margin, align = context_margin(loaded)
            # A wide-seeing model gets larger regions, so the margins stay a modest extra.
            regions = plan_regions(height, width, max(region_size, margin), margin, align)
        else:
            regions = []
        worker.emit_event(NoisyReady(generation, _hwc(noisy),
                                     _hwc(ref) if ref is not None else None,
                                     tuple(regions), size))
        if loaded is None:
            return None
        if autoencoder:
            output = reconstruct(loaded.model, noisy[None].clamp(0, 1))[0]
            worker.emit_event(RegionDone(generation, regions[0], np.ascontiguousarray(output)))
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
            worker.emit_event(RegionDone(generation, region, _hwc(kept)))
        done = AllDone(generation, time.perf_counter() - started)
        worker.emit_event(done)
        return done

    return job


def quantize(array: np.ndarray, bit_depth: int) -> np.ndarray:
    """Round a float image to the levels a saved file of ``bit_depth`` bits would hold."""
    levels = 65535.0 if bit_depth == 16 else 255.0
    return np.round(np.clip(array, 0.0, 1.0) * levels) / levels


def quality_scores(output: np.ndarray, noisy: np.ndarray, reference: np.ndarray,
                   bit_depth: int = 8) -> dict[str, float]:
    """PSNR (dB) and SSIM of the output and of the noisy input against the reference.

    The output is rounded to the image's bit depth first, as a saved file would be.
    """
    from aestudio.core.evaluation.metrics import psnr, ssim

    out = quantize(output, bit_depth)
    scores = {"psnr": psnr(out, reference), "noisy_psnr": psnr(noisy, reference)}
    if min(reference.shape[:2]) >= 11:  # SSIM's window needs 11 x 11 pixels
        scores["ssim"] = ssim(out, reference)
        scores["noisy_ssim"] = ssim(np.clip(noisy, 0, 1), reference)
    return scores


def metrics_job(generation: int, noisy: np.ndarray, denoised: np.ndarray | None,
                reference: np.ndarray, bit_depth: int, *, amount: float = 1.0,
                luma: float = 1.0, chroma: float = 1.0) -> JobFn:
    """A worker job returning ``(generation, scores)`` from :func:`quality_scores`.

    The output is ``denoised`` mixed with ``noisy`` as the panes show it (Amount, luma and
    chroma), or the noisy image itself when there is no model.
    """

    def job(worker: Worker) -> tuple[int, dict[str, float]]:
        from aestudio.ui.denoise.compare_render import blend

        output = noisy if denoised is None else blend(noisy, denoised, amount, luma, chroma)
        return generation, quality_scores(output, noisy, reference, bit_depth)

    return job
