"""Latent maps: the codes of an image folder, a 2-D map of them and its inverse.

:func:`encode_folder` reads a folder at the model's size and channels and encodes it
(VAEs give posterior means), with each image's reconstruction error. :func:`build_map`
lays the codes out in 2-D:

- ``codes``: a latent of size 2 (or 1) is its own map; a click decodes exactly;
- ``pca``: two principal components of larger codes; the inverse ``mean + xy @ components``
  is exact in their plane (optionally plus the nearest point's residual, so that clicking a
  point decodes its own code);
- ``tsne`` / ``umap``: non-linear layouts from optional packages; their inverse decodes a
  distance-weighted mix of the k nearest points' codes and is marked approximate.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aestudio.core.data.imagefolder import (
    ScanCancelled,
    decode_folder,
    default_cache_dir,
    scan_folder,
)
from aestudio.core.data.pca import PCAFit, fit_pca
from aestudio.core.latent.layouts import (
    NONLINEAR_LAYOUTS,
    PointIndex,
    embed_nonlinear,
    nonlinear_status,
)

if TYPE_CHECKING:  # torch is imported only when something is encoded (fast app start)
    from aestudio.core.models.base import Autoencoder

__all__ = [
    "LAYOUTS",
    "FolderCodes",
    "LatentMap",
    "ScanCancelled",
    "build_map",
    "encode_folder",
    "encode_images",
    "grid_cells",
    "grid_codes",
    "grid_mosaic",
    "knn_label_accuracy",
    "nonlinear_status",
    "resolve_layout",
]

LAYOUTS: tuple[str, ...] = ("auto", "codes", "pca", "tsne", "umap")
LAYOUT_NAMES = {"codes": "Codes", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
ENCODE_CHUNK = 1024
# Reconstructions are kept for the explorer up to this size (60,000 MNIST digits: 47 MB).
KEEP_RECONSTRUCTIONS_BYTES = 512 * 1024**2
# Neighbours mixed by the approximate inverse of a non-linear layout.
MIX_NEIGHBOURS = 8

ProgressFn = Callable[[str, int, int], None]


@dataclass
class FolderCodes:
    """Codes of a set of images, with what the explorer shows beside them.

    Attributes
    ----------
    codes : numpy.ndarray
        (N, D) float32 latent codes (posterior means for VAEs).
    images : numpy.ndarray
        (N, C, S, S) integer images as the model saw them (uint8, or uint16 at 16 bits).
    scale : float
        255 or 65535: divides ``images`` into [0, 1].
    paths : tuple of str
        Relative paths (posix) under ``root``.
    labels : tuple of str
        Each image's label (first-level subfolder name, "" for none).
    errors : numpy.ndarray
        (N,) mean squared error of each reconstruction, on the [0, 1] scale.
    root : str
        The folder.
    reconstructions : numpy.ndarray or None
        (N, C, S, S) the model's outputs, in the dtype of ``images``; kept only when they
        fit in :data:`KEEP_RECONSTRUCTIONS_BYTES`.
    """

    codes: np.ndarray
    images: np.ndarray
    scale: float
    paths: tuple[str, ...]
    labels: tuple[str, ...]
    errors: np.ndarray
    root: str = ""
    notes: tuple[str, ...] = ()
    reconstructions: np.ndarray | None = None
    label_names: tuple[str, ...] = field(init=False)
    label_index: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        names, index = np.unique(np.asarray(self.labels, dtype=str), return_inverse=True)
        self.label_names = tuple(str(n) for n in names)
        self.label_index = index.astype(np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[1])

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as (S, S, C) float32 in [0, 1]."""
        return (np.asarray(self.images[i], np.float32) / self.scale).transpose(1, 2, 0)

    def reconstruction(self, i: int) -> np.ndarray | None:
        """The model's output for image ``i``, (S, S, C) float32, when kept."""
        if self.reconstructions is None:
            return None
        return (np.asarray(self.reconstructions[i], np.float32) / self.scale).transpose(1, 2, 0)

    def images_hwc(self, index: Sequence[int] | np.ndarray) -> np.ndarray:
        """Images at ``index`` as (n, S, S, C) float32 in [0, 1]."""
        batch = np.asarray(self.images[np.asarray(index, np.int64)], np.float32) / self.scale
        return batch.transpose(0, 2, 3, 1)


# --------------------------------------------------------------------------- encoding


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ScanCancelled("stopped")


def encode_images(
    model: Autoencoder,
    images: np.ndarray,
    scale: float,
    *,
    batch_size: int = ENCODE_CHUNK,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    keep: bool = False,
    reconstruct: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Codes, reconstruction errors (and reconstructions) of integer images (N, C, S, S).

    Parameters
    ----------
    model : Autoencoder
        In any mode; it is put in eval mode.
    images : numpy.ndarray
        (N, C, S, S) at the model's size and channels.
    scale : float
        255 or 65535.
    batch_size : int
        Images per chunk; stop is checked between chunks.
    progress : callable, optional
        ``progress(done, total)`` after each chunk.
    stop : threading.Event, optional
        Raises :class:`ScanCancelled` when set.
    keep : bool
        Also return the reconstructions, (N, C, S, S) in the dtype of ``images``.
    reconstruct : bool
        False: codes only (no decoding; errors and reconstructions are None).

    Returns
    -------
    tuple
        Codes (N, D) float32, per-image MSE (N,) float32 or None, and the reconstructions
        or None.
    """
    import torch

    from aestudio.core.models import inference

    n = len(images)
    codes = np.empty((n, model.latent_dim), np.float32)
    errors = np.empty(n, np.float32) if reconstruct else None
    dtype = np.asarray(images[:1]).dtype
    kept = np.empty(np.shape(images), dtype) if keep and reconstruct else None
    for start in range(0, n, batch_size):
        _check(stop)
        x = torch.from_numpy(np.asarray(images[start:start + batch_size], np.float32) / scale)
        z = inference.encode(model, x, batch_size)
        codes[start:start + len(x)] = z
        if errors is not None:
            out = inference.decode(model, z, batch_size)
            target = x.permute(0, 2, 3, 1).numpy()
            errors[start:start + len(x)] = np.square(out - target).reshape(len(x),
                                                                           -1).mean(axis=1)
            if kept is not None:
                kept[start:start + len(x)] = np.rint(np.clip(out, 0, 1) * scale).astype(
                    dtype).transpose(0, 3, 1, 2)
        if progress is not None:
            progress(min(start + batch_size, n), n)
    return codes, errors, kept


def encode_folder(
    model: Autoencoder,
    folder: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    cache_dir: Path | None = None,
    limit: int | None = None,
) -> FolderCodes:
    """Read a folder at the model's size and channels and encode every image.

    Parameters
    ----------
    model : Autoencoder
        Gives the image size, channels and codes.
    folder : str or PathLike
        Image folder; labels are first-level subfolder names.
    progress : callable, optional
        ``progress(stage, done, total)`` with stage "scanning", "decoding" or "encoding".
    stop : threading.Event, optional
        When set, raises :class:`ScanCancelled`.
    cache_dir : Path, optional
        Decoded-image cache; default :func:`default_cache_dir`.
    limit : int, optional
        Keep at most this many images (an evenly spaced subset, in folder order).

    Returns
    -------
    FolderCodes
    """
    if getattr(model, "latent_dim", None) is None:
        raise ValueError("this model has no latent code to map")

    def stage(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda d, t: progress(name, d, t))

    scan = scan_folder(folder, min_size=1, progress=stage("scanning"), stop=stop)
    decoded = decode_folder(scan, size=model.image_size, channels=model.channels,
                            progress=stage("decoding"), stop=stop,
                            cache_dir=cache_dir or default_cache_dir())
    images = decoded.images
    keep = np.arange(len(decoded))
    if limit is not None and len(keep) > limit:
        keep = np.linspace(0, len(keep) - 1, limit).round().astype(np.int64)
        images = images[keep]
    images = np.ascontiguousarray(images)
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    small = images.nbytes <= KEEP_RECONSTRUCTIONS_BYTES
    codes, errors, reconstructions = encode_images(model, images, scale, keep=small, stop=stop,
                                                   progress=stage("encoding"))
    records = [decoded.records[i] for i in keep]
    notes = [*decoded.notes]
    if decoded.skipped:
        notes.append(f"{len(decoded.skipped)} files skipped")
    return FolderCodes(codes=codes, images=images, scale=scale,
                       paths=tuple(r.relpath for r in records),
                       labels=tuple(r.label for r in records), errors=errors,
                       root=str(scan.root), notes=tuple(notes),
                       reconstructions=reconstructions)


# --------------------------------------------------------------------------- maps


def resolve_layout(layout: str, latent_dim: int) -> str:
    """The layout ``auto`` stands for: the codes themselves up to 2 numbers, else PCA."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if layout == "auto":
        return "codes" if latent_dim <= 2 else "pca"
    if layout == "codes" and latent_dim > 2:
        raise ValueError(f"the codes have {latent_dim} numbers; the codes layout needs 1 or 2 "
                         "(use pca, tsne or umap)")
    return layout


@dataclass
class LatentMap:
    """2-D positions of codes and the way back from a map point to a code.

    Attributes
    ----------
    positions : numpy.ndarray
        (N, 2) float64 map coordinates of the codes.
    codes : numpy.ndarray
        (N, D) the codes.
    layout : str
        "codes", "pca", "tsne" or "umap".
    axes : tuple of int
        Which code numbers (codes layout) or principal components (pca) are x and y.
    pca : PCAFit or None
        The PCA fit of the pca layout.
    add_residual : bool
        PCA only: add the nearest point's residual (its code minus its projection), so a
        click on a point decodes that point's own code.
    """

    positions: np.ndarray
    codes: np.ndarray
    layout: str
    axes: tuple[int, int] = (0, 1)
    pca: PCAFit | None = None
    add_residual: bool = False
    _index: PointIndex | None = field(default=None, repr=False)

    @property
    def exact(self) -> bool:
        """True when a map point decodes exactly what lies there (codes and PCA layouts)."""
        return self.layout in ("codes", "pca")

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[1])

    @property
    def index(self) -> PointIndex:
        """The nearest-point index (built on first use)."""
        if self._index is None:
            self._index = PointIndex(self.positions)
        return self._index

    def nearest(self, xy: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Indices and distances of the ``k`` nearest points; see :meth:`PointIndex.nearest`."""
        return self.index.nearest(xy, k)

    def axis_titles(self) -> tuple[str, str]:
        """Titles for the x and y axes, e.g. ``("PC1 (41 %)", "PC2 (22 %)")``."""
        if self.layout == "codes":
            if self.latent_dim == 1:
                return "z0", ""
            return f"z{self.axes[0]}", f"z{self.axes[1]}"
        if self.layout == "pca" and self.pca is not None:
            titles = [f"PC{a + 1} ({100 * self.pca.explained[a]:.0f} %)" for a in self.axes]
            return titles[0], titles[1]
        name = LAYOUT_NAMES[self.layout]
        return f"{name} 1", f"{name} 2"

    def to_code(self, xy: np.ndarray) -> np.ndarray:
        """Codes at map points: (2,) -> (D,), (M, 2) -> (M, D), float32.

        Exact for the codes layout and (in the plane of the two components) for PCA; a
        distance-weighted mix of the nearest points' codes for t-SNE and UMAP.
        """
        q = np.asarray(xy, np.float64)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if self.layout == "codes":
            if self.latent_dim == 1:
                out = q[:, :1].copy()
            else:
                out = np.empty((len(q), 2))
                out[:, self.axes[0]], out[:, self.axes[1]] = q[:, 0], q[:, 1]
        elif self.layout == "pca":
            assert self.pca is not None
            out = self.pca.inverse(q, self.axes)
            if self.add_residual:
                idx, _ = self.nearest(q, 1)
                nearest = idx[:, 0]
                own = self.pca.inverse(self.positions[nearest], self.axes)
                out = out + (self.codes[nearest] - own)
        else:
            out = self._mix(q)
        out = out.astype(np.float32)
        return out[0] if single else out

    def _mix(self, q: np.ndarray) -> np.ndarray:
        k = min(MIX_NEIGHBOURS, len(self.codes))
        idx, dist = self.nearest(q, k)
        idx, dist = np.atleast_2d(idx), np.atleast_2d(dist)
        # Inverse-square weights; a query on a point gets that point's own code.
        scale = max(float(np.ptp(self.positions, axis=0).max()), 1e-12)
        w = 1.0 / np.square(np.maximum(dist, 1e-9 * scale))
        w /= w.sum(axis=1, keepdims=True)
        return np.einsum("mk,mkd->md", w, self.codes[idx].astype(np.float64))

    def to_map(self, codes: np.ndarray) -> np.ndarray | None:
        """Map coordinates of arbitrary codes (M, D) -> (M, 2); None for non-linear layouts."""
        z = np.atleast_2d(np.asarray(codes, np.float64))
        if self.layout == "codes":
            if self.latent_dim == 1:
                return np.column_stack([z[:, 0], np.zeros(len(z))])
            return z[:, list(self.axes)]
        if self.layout == "pca" and self.pca is not None:
            return self.pca.project(z, self.axes)
        return None


def build_map(
    codes: np.ndarray,
    layout: str = "auto",
    *,
    axes: tuple[int, int] = (0, 1),
    add_residual: bool = False,
    seed: int = 0,
    pca: PCAFit | None = None,
) -> LatentMap:
    """Lay codes out in 2-D.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, D).
    layout : str
        "auto" (codes up to 2 numbers, else PCA), "codes", "pca", "tsne" or "umap".
    axes : tuple of int
        Codes layout: which two code numbers; PCA: which two components (0 = the first).
    add_residual : bool
        PCA: add the nearest point's residual in :meth:`LatentMap.to_code`.
    seed : int
        Random state of t-SNE / UMAP.
    pca : PCAFit, optional
        A PCA fit of the same codes to reuse (switching components refits nothing).

    Returns
    -------
    LatentMap
    """
    z = np.asarray(codes)
    if z.ndim != 2 or len(z) == 0:
        raise ValueError(f"codes must be a non-empty (N, D) array, got shape {z.shape}")
    dim = z.shape[1]
    layout = resolve_layout(layout, dim)
    if layout == "codes":
        if dim == 2 and sorted(axes) != [0, 1]:
            raise ValueError(f"axes of a 2-number code must be 0 and 1, got {axes}")
        lm = LatentMap(np.zeros((len(z), 2)), z, "codes", tuple(axes) if dim == 2 else (0, 0))
        lm.positions = lm.to_map(z)
        return lm
    if layout == "pca":
        fit = pca if pca is not None else fit_pca(z)
        if axes[0] == axes[1] or max(axes) >= len(fit.components) or min(axes) < 0:
            raise ValueError(f"choose two different components below {len(fit.components)}, "
                             f"got {axes}")
        return LatentMap(fit.project(z, axes), z, "pca", tuple(axes), fit, add_residual)
    if layout in NONLINEAR_LAYOUTS:
        return LatentMap(embed_nonlinear(z, layout, seed), z, layout)
    raise ValueError(f"unknown layout {layout!r}")


# --------------------------------------------------------------------------- grid


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


# --------------------------------------------------------------------------- measures


def knn_label_accuracy(positions: np.ndarray, labels: Sequence | np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour label accuracy of a 2-D map.

    Each point's label is predicted by a majority vote of its ``k`` nearest other points
    (a tie goes to the tied label whose nearest member is closest).

    Parameters
    ----------
    positions : numpy.ndarray
        (N, 2) map coordinates, N >= 2.
    labels : sequence
        N labels of any comparable type.
    k : int
        Neighbours voting.

    Returns
    -------
    float
        The share of points whose label the vote predicts.
    """
    pos = np.asarray(positions, np.float64)
    _, lab = np.unique(np.asarray(labels), return_inverse=True)
    lab = lab.reshape(-1)
    n = len(pos)
    if n < 2 or len(lab) != n:
        raise ValueError("need at least 2 positions and one label per position")
    k = int(min(max(1, k), n - 1))
    idx, _ = PointIndex(pos).nearest(pos, k + 1)
    # Drop each point itself (among duplicates it may not come first).
    is_self = idx == np.arange(n)[:, None]
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(idx, bool)
    keep[np.arange(n), drop] = False
    neighbours = idx[keep].reshape(n, k)
    votes = lab[neighbours]
    n_labels = int(lab.max()) + 1
    counts = np.zeros((n, n_labels), np.int64)
    np.add.at(counts, (np.repeat(np.arange(n), k), votes.ravel()), 1)
    # Tie-break by rank of the first vote for each label: a small bonus for the nearest.
    first_rank = np.full((n, n_labels), k, np.int64)
    for r in range(k - 1, -1, -1):
        first_rank[np.arange(n), votes[:, r]] = r
    score = counts * (k + 1) - first_rank
    return float((score.argmax(axis=1) == lab).mean())


def ranked_by_error(errors: np.ndarray) -> np.ndarray:
    """Indices of images from the largest reconstruction error to the smallest."""
    return np.argsort(-np.asarray(errors, np.float64), kind="stable")
