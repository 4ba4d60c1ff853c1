"""Which part of an image to denoise first: square regions, the visible ones first.

The compare view denoises an image region by region so that what the panes show appears
first. Each region is denoised together with a margin of real neighbouring pixels that is
cropped away afterwards, so the network sees the same context as in a whole-image pass and
no seam can appear; region origins lie on a grid aligned to the network's down-sampling
factor, so a U-Net sees every region in the same phase as the whole image. The regions are
then handed, one at a time, to the one tiler (:func:`aestudio.core.denoise.apply.denoise_tensor`).

Torch-free: the studio orders regions for redrawing on its own thread.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_REGION",
    "MIN_MARGIN",
    "TILE_MULTIPLE",
    "Focus",
    "Rect",
    "Region",
    "context_margin",
    "focus_order",
    "next_region",
    "plan_regions",
]

DEFAULT_REGION = 256
MIN_MARGIN = 32
TILE_MULTIPLE = 8  # region origins lie on at least this grid

#: An image rectangle as ``(x0, y0, x1, y1)`` in pixels.
Rect = tuple[float, float, float, float]


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
        """``(x, y, w, h)`` of the kept part."""
        return (self.x, self.y, self.w, self.h)


class Focus:
    """The image rectangle the viewer shows; written by one thread, read by another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rect: Rect | None = None

    def set(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Record the rectangle now shown."""
        with self._lock:
            self._rect = (x0, y0, x1, y1)

    def get(self) -> Rect | None:
        """The rectangle last set, or None before the first."""
        with self._lock:
            return self._rect


def context_margin(model: Any) -> tuple[int, int]:
    """The margin (pixels) each region is denoised with, and the grid its origins lie on.

    Parameters
    ----------
    model
        The network; denoisers say how far they see (``reach``) and on which grid
        (``size_multiple``). Other fully convolutional models get a generous guess.

    Returns
    -------
    tuple of int
        ``(margin, align)``: the margin is at least :data:`MIN_MARGIN` pixels and at least
        the network's reach, both are multiples of ``align``, which is a multiple of the
        network's down-sampling grid (and of :data:`TILE_MULTIPLE`).
    """
    reach = int(getattr(model, "reach", 2 * MIN_MARGIN))
    multiple = int(getattr(model, "size_multiple", 2 * MIN_MARGIN))
    align = math.lcm(TILE_MULTIPLE, max(1, multiple))
    margin = math.ceil(max(MIN_MARGIN, reach) / align) * align
    return margin, align


def _context_span(start: int, total: int, margin: int, align: int,
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

    Returns
    -------
    list of Region
        Covering every pixel exactly once; ``index`` is the position in this list.
    """
    size = max(align, math.ceil(size / align) * align)
    span = size + 2 * margin
    regions: list[Region] = []
    for y in range(0, height, size):
        for x in range(0, width, size):
            h, w = min(size, height - y), min(size, width - x)
            x0, x1 = _context_span(x, width, margin, align, span)
            y0, y1 = _context_span(y, height, margin, align, span)
            regions.append(Region(len(regions), x, y, w, h, (x0, y0, x1, y1)))
    return regions


def focus_order(regions: list[Region], focus: Rect | None) -> list[Region]:
    """``regions`` sorted for doing: those inside ``focus`` first, each group by distance
    from the centre of ``focus`` (unchanged order without a focus).

    Parameters
    ----------
    regions : list of Region
        Regions still to do (or to redraw).
    focus : tuple of float or None
        The shown rectangle ``(x0, y0, x1, y1)``.

    Returns
    -------
    list of Region
        A new list.
    """
    if focus is None:
        return list(regions)
    fx0, fy0, fx1, fy1 = focus
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2

    def key(r: Region) -> tuple[bool, float]:
        visible = r.x < fx1 and r.x + r.w > fx0 and r.y < fy1 and r.y + r.h > fy0
        distance = (r.x + r.w / 2 - cx) ** 2 + (r.y + r.h / 2 - cy) ** 2
        return (not visible, distance)

    return sorted(regions, key=key)


def next_region(remaining: list[Region], focus: Rect | None) -> Region:
    """The region to do next: a shown one nearest the centre of ``focus``, else the nearest.

    Parameters
    ----------
    remaining : list of Region
        Not empty.
    focus : tuple of float or None
        The shown rectangle ``(x0, y0, x1, y1)``.

    Returns
    -------
    Region
    """
    return focus_order(remaining, focus)[0]
