"""Decoded grids over a map region: cell centres, their codes, and the tiles as one image."""

from __future__ import annotations

import numpy as np

from aestudio.core.latent.map import LatentMap

__all__ = ["GRID_SPACINGS", "grid_cells", "grid_codes", "grid_mosaic"]

GRID_SPACINGS = ("uniform", "prior")


def grid_cells(lo: float, hi: float, n: int, spacing: str = "uniform") -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Centres (n,) and edges (n + 1,) of n cells along [lo, hi], ascending.

    ``uniform``: equal widths. ``prior``: equal mass under a standard normal (a VAE's prior),
    each centre at its cell's median, so cells are narrow where codes are likely; falls back
    to uniform when the range holds almost no prior mass.
    """
    if spacing not in GRID_SPACINGS:
        raise ValueError(f"unknown spacing {spacing!r}; choose uniform or prior")
    if spacing == "prior":
        import torch

        q0, q1 = torch.special.ndtr(torch.tensor([lo, hi], dtype=torch.float64)).tolist()
        if q1 - q0 > 1e-6:
            edges_q = q0 + np.arange(n + 1) * (q1 - q0) / n
            centres_q = q0 + (np.arange(n) + 0.5) * (q1 - q0) / n
            edges = torch.special.ndtri(torch.from_numpy(edges_q)).numpy()
            centres = torch.special.ndtri(torch.from_numpy(centres_q)).numpy()
            edges = np.clip(np.nan_to_num(edges, nan=lo, posinf=hi, neginf=lo), lo, hi)
            edges[0], edges[-1] = lo, hi
            return np.clip(centres, lo, hi), edges
    edges = lo + np.arange(n + 1) * (hi - lo) / n
    return (edges[:-1] + edges[1:]) / 2, edges


def grid_codes(
    latent_map: LatentMap,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int,
    spacing: str = "uniform",
) -> np.ndarray:
    """Codes at the centres of an n x n grid of cells over a map rectangle.

    Row 0 is the top row (largest y), as an image is read; see :func:`grid_mosaic`.
    ``spacing`` as in :func:`grid_cells`.

    Returns
    -------
    numpy.ndarray
        (n * n, D) float32, row-major.
    """
    xs, _ = grid_cells(x_range[0], x_range[1], n, spacing)
    ys, _ = grid_cells(y_range[0], y_range[1], n, spacing)
    gx, gy = np.meshgrid(xs, ys[::-1])
    return latent_map.to_code(np.column_stack([gx.ravel(), gy.ravel()]))


def grid_mosaic(
    tiles: np.ndarray,
    n: int,
    x_edges: np.ndarray | None = None,
    y_edges: np.ndarray | None = None,
) -> np.ndarray:
    """Tiles (n * n, S, S, C), row-major from the top, as one (n * S, n * S, C) image.

    With cell edges (ascending, n + 1 each, from :func:`grid_cells`), each tile is stretched
    over its own cell, so that unequal cells (prior spacing) stay aligned with the map.
    """
    s, c = tiles.shape[1], tiles.shape[3]
    grid = tiles.reshape(n, n, s, s, c)
    if x_edges is None or y_edges is None:
        return grid.transpose(0, 2, 1, 3, 4).reshape(n * s, n * s, c)
    size = n * s

    def lookup(edges: np.ndarray, from_top: bool) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = edges[0], edges[-1]
        at = lo + (np.arange(size) + 0.5) * (hi - lo) / size
        if from_top:
            at = at[::-1]
        cell = np.clip(np.searchsorted(edges, at, side="right") - 1, 0, n - 1)
        width = np.maximum(edges[cell + 1] - edges[cell], 1e-300)
        frac = (edges[cell + 1] - at) / width if from_top else (at - edges[cell]) / width
        pixel = np.clip((frac * s).astype(np.int64), 0, s - 1)
        return (n - 1 - cell if from_top else cell), pixel

    col_cell, col_px = lookup(np.asarray(x_edges, np.float64), from_top=False)
    row_cell, row_px = lookup(np.asarray(y_edges, np.float64), from_top=True)
    return grid[row_cell[:, None], col_cell[None, :], row_px[:, None], col_px[None, :]]


