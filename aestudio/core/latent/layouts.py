"""2-D layouts of latent codes and a nearest-point index for them.

- :func:`embed_nonlinear`: t-SNE (scikit-learn) or UMAP (umap-learn), both optional; they
  are looked up at run time by :func:`nonlinear_status`.
- :class:`PointIndex`: k-nearest-neighbour queries on 2-D points through a uniform grid,
  written with numpy (no scipy): a batch of queries is answered with vectorised gathers
  from the 5 x 5 cells around each query, and the few queries that window cannot settle
  fall back to an exact ring-by-ring search.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from aestudio.core.data.pca import fit_pca

__all__ = [
    "NONLINEAR_LAYOUTS",
    "PointIndex",
    "embed_nonlinear",
    "nonlinear_status",
]

NONLINEAR_LAYOUTS: dict[str, tuple[str, str]] = {
    # layout: (module to import, package to install)
    "tsne": ("sklearn", "scikit-learn"),
    "umap": ("umap", "umap-learn"),
}
# Codes longer than this are reduced by PCA before t-SNE / UMAP (their usual practice).
_NONLINEAR_PCA_DIMS = 50
# Queries per vectorised chunk: bounds the candidate arrays to a few tens of MB.
_QUERY_CHUNK = 2048
# Cells searched on each side of a query's own cell before falling back to a scan.
_WINDOW = 2


# --------------------------------------------------------------------------- non-linear


def nonlinear_status() -> dict[str, str | None]:
    """Whether each non-linear layout can run here.

    Returns
    -------
    dict
        ``{"tsne": None | reason, "umap": None | reason}``: None when usable, else a
        sentence naming the package to install.
    """
    status: dict[str, str | None] = {}
    for layout, (module, package) in NONLINEAR_LAYOUTS.items():
        found = importlib.util.find_spec(module) is not None
        status[layout] = None if found else f"install {package} to use this layout " \
                                            f"(pip install {package})"
    return status


def embed_nonlinear(codes: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """A 2-D t-SNE or UMAP embedding of codes (N, D).

    Parameters
    ----------
    codes : numpy.ndarray
        (N, D) codes; reduced to 50 dimensions by PCA first when longer.
    method : {"tsne", "umap"}
        The optional package must be installed (see :func:`nonlinear_status`).
    seed : int
        Random state, for repeatable maps.

    Returns
    -------
    numpy.ndarray
        (N, 2) float64 positions.

    Raises
    ------
    ValueError
        Unknown method, or its package is missing.
    """
    if method not in NONLINEAR_LAYOUTS:
        raise ValueError(f"unknown layout {method!r}; choose tsne or umap")
    reason = nonlinear_status()[method]
    if reason is not None:
        raise ValueError(reason)
    x = np.asarray(codes, np.float64)
    if x.shape[1] > _NONLINEAR_PCA_DIMS:
        x = (x - x.mean(0)) @ fit_pca(x, _NONLINEAR_PCA_DIMS).components.T
    n = len(x)
    if n < 4:  # both methods need a handful of points; a tiny set is laid out by PCA
        pca = fit_pca(x)
        return pca.project(x) if x.shape[1] >= 2 else np.column_stack([x[:, 0], np.zeros(n)])
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (n - 1) / 3.0)))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return np.asarray(tsne.fit_transform(x), np.float64)
    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=seed)
    return np.asarray(reducer.fit_transform(x), np.float64)


# --------------------------------------------------------------------------- nearest


class PointIndex:
    """Exact k-nearest-neighbour queries on 2-D points, through a uniform grid.

    The cell size is set from the central 98 % of the points, so a few far outliers do not
    make the cells coarse; only occupied cells are stored. A query is answered from the
    5 x 5 cells around it when that window provably holds its k nearest points, and by a
    brute-force scan otherwise (far from the data, or in a very sparse region).

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) positions, N >= 1; non-finite rows are never returned.
    per_cell : float
        Mean number of points per cell over the central region.
    """

    def __init__(self, points: np.ndarray, per_cell: float = 3.0) -> None:
        pts = np.asarray(points, np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
            raise ValueError(f"points must be a non-empty (N, 2) array, got shape {pts.shape}")
        self.points = pts
        self._valid = np.flatnonzero(np.isfinite(pts).all(axis=1))
        if len(self._valid) == 0:
            raise ValueError("no finite points")
        valid = pts[self._valid]
        lo, hi = np.quantile(valid, [0.01, 0.99], axis=0)
        span = hi - lo
        extent = float(max(span.max(), np.ptp(valid, axis=0).max(), 1e-12))
        area = float(max(span[0], extent * 1e-3) * max(span[1], extent * 1e-3))
        cells_wanted = max(1.0, 0.98 * len(valid) / per_cell)
        self.cell = max(math.sqrt(area / cells_wanted), extent * 1e-7)
        self.origin = valid.min(axis=0)
        keys = self._keys(*self._cell_of(valid))
        order = np.argsort(keys, kind="stable")
        self._sorted = self._valid[order]  # point indices grouped by cell
        self._keys_sorted, first, counts = np.unique(keys[order], return_index=True,
                                                     return_counts=True)
        self._start = first.astype(np.int64)
        self._count = counts.astype(np.int64)

    def __len__(self) -> int:
        return len(self.points)

    def _cell_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = np.floor((xy - self.origin) / self.cell)
        c = np.clip(c, -(2**29), 2**29).astype(np.int64)
        return c[:, 0], c[:, 1]

    @staticmethod
    def _keys(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
        return (cy + 2**30) * 2**31 + (cx + 2**30)

    def nearest(self, xy: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest points of one query (2,) or of each query (M, 2).

        Parameters
        ----------
        xy : numpy.ndarray
            (2,) or (M, 2) positions.
        k : int
            Neighbours wanted; at most the number of valid points are returned.

        Returns
        -------
        tuple of numpy.ndarray
            Indices into ``points`` and Euclidean distances, nearest first: shapes (k,)
            for one query, (M, k) for many. Ties are broken by index.
        """
        q = np.asarray(xy, np.float64)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        k = int(min(max(1, k), len(self._valid)))
        out_i = np.empty((len(q), k), np.int64)
        out_d = np.empty((len(q), k), np.float64)
        for start in range(0, len(q), _QUERY_CHUNK):
            chunk = slice(start, start + _QUERY_CHUNK)
            out_i[chunk], out_d[chunk] = self._nearest_chunk(q[chunk], k)
        return (out_i[0], out_d[0]) if single else (out_i, out_d)

    def _nearest_chunk(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        m = len(q)
        qs = np.where(np.isfinite(q).all(axis=1)[:, None], q, self.origin)
        cx, cy = self._cell_of(qs)
        reach = np.arange(-_WINDOW, _WINDOW + 1)
        dx, dy = np.meshgrid(reach, reach)
        cells = dx.size
        keys = self._keys(cx[:, None] + dx.ravel(), cy[:, None] + dy.ravel()).ravel()
        slot = np.searchsorted(self._keys_sorted, keys).clip(0, len(self._keys_sorted) - 1)
        hit = self._keys_sorted[slot] == keys
        counts = np.where(hit, self._count[slot], 0)
        per_query = counts.reshape(m, cells).sum(axis=1)
        # Dense windows cost more than a scan; they and unsettled queries go to the scan.
        cheap = per_query <= max(64 * k, 512)
        counts = np.where(np.repeat(cheap, cells), counts, 0)
        total = int(counts.sum())
        first = np.cumsum(counts) - counts
        within = np.arange(total) - np.repeat(first, counts)
        members = self._sorted[np.repeat(self._start[slot], counts) + within]
        row = np.repeat(np.arange(m * cells) // cells, counts)
        p, r = self.points[members], qs[row]
        d2 = np.square(p[:, 0] - r[:, 0]) + np.square(p[:, 1] - r[:, 1])
        order = np.lexsort((members, d2, row))
        row, members, d2 = row[order], members[order], d2[order]
        n_row = np.bincount(row, minlength=m)
        rank = np.arange(len(row)) - np.repeat(np.cumsum(n_row) - n_row, n_row)
        keep = rank < k
        out_i = np.zeros((m, k), np.int64)
        out_d = np.full((m, k), np.inf)
        out_i[row[keep], rank[keep]] = members[keep]
        out_d[row[keep], rank[keep]] = d2[keep]
        # Points outside the window are at least this far from the query.
        lo = self.origin + (np.column_stack([cx, cy]) - _WINDOW) * self.cell
        bound = np.minimum(qs - lo, lo + (2 * _WINDOW + 1) * self.cell - qs).min(axis=1)
        settled = cheap & (n_row >= k) & (out_d[:, -1] <= np.square(np.maximum(bound, 0.0)))
        todo = np.flatnonzero(~settled)
        for start in range(0, len(todo), 64):
            rows = todo[start:start + 64]
            out_i[rows], out_d[rows] = self._scan(qs[rows], k)
        return out_i, np.sqrt(out_d)

    def _scan(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Brute force over every valid point; squared distances, ties by index."""
        pts = self.points[self._valid]
        # Two (M, N) planes rather than an (M, N, 2) array reduced over its last axis.
        d2 = np.square(q[:, :1] - pts[:, 0]) + np.square(q[:, 1:] - pts[:, 1])
        if k < len(pts):
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
            # Points tied with the k-th distance may have been left out by argpartition;
            # keep every one within it and sort by (distance, index).
            kth = np.take_along_axis(d2, part, axis=1).max(axis=1, keepdims=True)
            out_i = np.empty((len(q), k), np.int64)
            out_d = np.empty((len(q), k))
            for r in range(len(q)):
                cand = np.flatnonzero(d2[r] <= kth[r])
                order = np.lexsort((cand, d2[r, cand]))[:k]
                out_i[r], out_d[r] = self._valid[cand[order]], d2[r, cand[order]]
            return out_i, out_d
        order = np.lexsort((np.broadcast_to(self._valid, d2.shape), d2), axis=1)
        return self._valid[order], np.take_along_axis(d2, order, axis=1)
