"""A 2-D map of latent codes and its inverse, from a map point back to a code.

:func:`build_map` lays codes out in 2-D:

- ``codes``: a latent of size 2 (or 1) is its own map; a click decodes exactly;
- ``pca``: two principal components of larger codes; the inverse ``mean + xy @ components``
  is exact in their plane (optionally plus the nearest point's residual, so that clicking a
  point decodes its own code);
- ``tsne`` / ``umap``: non-linear layouts from optional packages; their inverse decodes a
  distance-weighted mix of the k nearest points' codes and is marked approximate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aestudio.core.data.pca import PCAFit, fit_pca
from aestudio.core.latent.layouts import (
    NONLINEAR_LAYOUTS,
    PointIndex,
    embed_nonlinear,
    nonlinear_status,
)

__all__ = [
    "LAYOUTS",
    "LAYOUT_NAMES",
    "MIX_NEIGHBOURS",
    "LatentMap",
    "build_map",
    "nonlinear_status",
    "resolve_layout",
]

LAYOUTS: tuple[str, ...] = ("auto", "codes", "pca", "tsne", "umap")
LAYOUT_NAMES = {"codes": "Codes", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
# Neighbours mixed by the approximate inverse of a non-linear layout.
MIX_NEIGHBOURS = 8


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


