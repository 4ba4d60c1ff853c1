"""A latent map as a PNG: labelled scatter, axis ticks and a legend, drawn with Pillow.

The colours are colour-blind safe and shared with the explorer: Paul Tol's "muted"
qualitative scheme (plus black for a tenth label) and viridis steps for continuous values.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aestudio.core.io.write import write_image

__all__ = ["ERROR_COLOURS", "LABEL_COLOURS", "nice_ticks", "render_map"]

LABEL_COLOURS = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77",
                 "#CC6677", "#882255", "#AA4499", "#000000")
ERROR_COLOURS = ("#440154", "#46327E", "#365C8D", "#277F8E", "#1FA187", "#4AC16D",
                 "#A0DA39", "#FDE725")
UNLABELLED = "#4A4A4A"


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten) within [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + 1e-9 * step:
        ticks.append(0.0 if abs(value) < 1e-12 * step else value)
        value += step
    return ticks


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _format(value: float, step: float) -> str:
    decimals = max(0, -int(math.floor(math.log10(step))) if step > 0 else 0)
    return f"{value:.{decimals}f}"


# Below this width the legend and the axis labels no longer fit.
MIN_MAP_SIZE = 400


def render_map(
    positions: np.ndarray,
    labels: Sequence[str],
    out: str | os.PathLike[str],
    *,
    size: int = 1200,
    title: str = "",
    axis_titles: tuple[str, str] = ("", ""),
    note: str = "",
) -> Path:
    """Draw a labelled scatter of 2-D positions with axis ticks and a legend.

    Parameters
    ----------
    positions : numpy.ndarray
        (N, 2) map coordinates.
    labels : sequence of str
        One label per point; "" for none. Up to 10 labels get distinct colours.
    out : str or PathLike
        The PNG to write.
    size : int
        Width of the image in pixels (the height is 3/4 of it).
    title, axis_titles, note : str
        Text above the plot, under the axes, and under the legend.

    Returns
    -------
    Path
    """
    pos = np.asarray(positions, np.float64)
    labels = np.asarray(labels, dtype=str)
    if pos.ndim != 2 or pos.shape[1] != 2 or len(pos) != len(labels) or len(pos) == 0:
        raise ValueError("need (N, 2) positions and N labels, N >= 1")
    size = int(max(MIN_MAP_SIZE, size))
    width, height = size, int(size * 0.75)
    unit = size / 1200
    font = _font(max(10, round(15 * unit)))
    small = _font(max(9, round(13 * unit)))
    legend_w = int(200 * unit)
    left, right = int(90 * unit), width - legend_w - int(20 * unit)
    top, bottom = int(50 * unit), height - int(70 * unit)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    finite = np.isfinite(pos).all(axis=1)
    shown = pos[finite]
    lo, hi = np.quantile(shown, [0.001, 0.999], axis=0) if len(shown) > 1000 else \
        (shown.min(axis=0), shown.max(axis=0))
    span = np.maximum(hi - lo, 1e-9)
    lo, hi = lo - 0.04 * span, hi + 0.04 * span

    def to_px(xy: np.ndarray) -> np.ndarray:
        px = left + (xy[:, 0] - lo[0]) / (hi[0] - lo[0]) * (right - left)
        py = bottom - (xy[:, 1] - lo[1]) / (hi[1] - lo[1]) * (bottom - top)
        return np.column_stack([px, py])

    # Ticks and frame.
    for axis in (0, 1):
        ticks = nice_ticks(lo[axis], hi[axis])
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        for t in ticks:
            if axis == 0:
                x = left + (t - lo[0]) / (hi[0] - lo[0]) * (right - left)
                draw.line([(x, top), (x, bottom)], fill="#EEEEEE")
                draw.line([(x, bottom), (x, bottom + 6 * unit)], fill="#444444")
                draw.text((x, bottom + 8 * unit), _format(t, step), fill="#222222", font=small,
                          anchor="ma")
            else:
                y = bottom - (t - lo[1]) / (hi[1] - lo[1]) * (bottom - top)
                draw.line([(left, y), (right, y)], fill="#EEEEEE")
                draw.line([(left - 6 * unit, y), (left, y)], fill="#444444")
                draw.text((left - 9 * unit, y), _format(t, step), fill="#222222", font=small,
                          anchor="rm")

    # Points: a small disc per point, splatted with numpy, in a shuffled order so that no
    # label hides the others systematically.
    names = sorted(set(labels.tolist()))
    colour_of = {name: (UNLABELLED if name == "" and len(names) == 1 else
                        LABEL_COLOURS[i % len(LABEL_COLOURS)]) for i, name in enumerate(names)}
    order = np.random.default_rng(0).permutation(np.flatnonzero(finite))
    px = np.rint(to_px(pos[order])).astype(np.int64)
    rgb = np.array([_rgb(colour_of[name]) for name in names], np.uint8)
    colour_index = np.searchsorted(np.array(names), labels[order])
    canvas = np.asarray(image).copy()
    radius = 2 if len(order) > 5000 else 3
    radius = max(1, round(radius * unit))
    inside = (px[:, 0] >= left) & (px[:, 0] <= right) & (px[:, 1] >= top) & (px[:, 1] <= bottom)
    px, colour_index = px[inside], colour_index[inside]
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy <= radius * radius + radius // 2:
                ys = np.clip(px[:, 1] + dy, top, bottom)
                xs = np.clip(px[:, 0] + dx, left, right)
                canvas[ys, xs] = rgb[colour_index]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    draw.rectangle([left, top, right, bottom], outline="#444444")

    # Titles.
    if title:
        draw.text((left, top - 12 * unit), title, fill="#000000", font=font, anchor="ls")
    draw.text(((left + right) / 2, height - 18 * unit), axis_titles[0], fill="#000000",
              font=font, anchor="ms")
    if axis_titles[1]:
        text_w = int(draw.textlength(axis_titles[1], font=font)) + 4
        label = Image.new("RGBA", (text_w, int(24 * unit)), (255, 255, 255, 0))
        ImageDraw.Draw(label).text((0, 0), axis_titles[1], fill="#000000", font=font)
        rotated = label.rotate(90, expand=True)
        image.paste(rotated, (int(8 * unit), int((top + bottom) / 2 - rotated.height / 2)),
                    rotated)

    # Legend.
    x0 = right + int(22 * unit)
    y = top
    draw.text((x0, y), "Label", fill="#000000", font=font)
    y += int(28 * unit)
    counts = {name: int((labels == name).sum()) for name in names}
    box = int(14 * unit)
    for name in names[:40]:
        draw.rectangle([x0, y, x0 + box, y + box], fill=colour_of[name])
        draw.text((x0 + box + 8 * unit, y + box / 2), f"{name or '(none)'}  ({counts[name]:,})",
                  fill="#222222", font=small, anchor="lm")
        y += int(24 * unit)
    if len(names) > 40:
        draw.text((x0, y), f"… {len(names) - 40} more", fill="#222222", font=small)
        y += int(24 * unit)
    if note:
        y += int(10 * unit)
        for line in note.splitlines():
            draw.text((x0, y), line, fill="#444444", font=small)
            y += int(20 * unit)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_image(target, np.asarray(image))  # atomic: never half a PNG
    return target
