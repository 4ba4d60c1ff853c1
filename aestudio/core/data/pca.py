"""Principal components of a set of vectors (image pixels or latent codes), with an exact
inverse in their span."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PCAFit", "fit_pca"]


@dataclass(frozen=True)
class PCAFit:
    """Principal axes of a set of codes.

    Attributes
    ----------
    mean : numpy.ndarray
        (D,) mean code.
    components : numpy.ndarray
        (K, D) orthonormal rows, by decreasing variance.
    explained : numpy.ndarray
        (K,) share of the total variance along each component (sums to 1 when K = D).
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    def project(self, codes: np.ndarray, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
        """Map coordinates (N, 2) of codes (N, D) on components ``axes``."""
        basis = self.components[list(axes)]
        return (np.asarray(codes, np.float64) - self.mean) @ basis.T

    def inverse(self, xy: np.ndarray, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
        """Codes (N, D) at map coordinates (N, 2): ``mean + xy @ components[axes]``."""
        basis = self.components[list(axes)]
        return self.mean + np.asarray(xy, np.float64) @ basis


def fit_pca(codes: np.ndarray, n_components: int | None = None) -> PCAFit:
    """Principal components of ``codes`` (rows are samples).

    Parameters
    ----------
    codes : numpy.ndarray
        (N, D) codes, N >= 1.
    n_components : int, optional
        How many to keep; default ``min(N, D)``.

    Returns
    -------
    PCAFit
        Computed in float64.
    """
    x = np.asarray(codes, np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"codes must be a non-empty (N, D) array, got shape {x.shape}")
    mean = x.mean(axis=0)
    centred = x - mean
    if len(x) > x.shape[1]:
        # Many more rows than columns (60,000 images of 784 pixels): the D x D covariance's
        # eigenvectors are the same axes, an order of magnitude sooner than the SVD.
        eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)
        variance, vt = np.clip(eigenvalues[::-1], 0, None), vectors[:, ::-1].T
    else:
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        variance = s**2
    # A deterministic sign: the largest loading of each component is positive.
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    total = variance.sum()
    explained = variance / total if total > 0 else np.zeros_like(variance)
    k = len(vt) if n_components is None else max(1, min(n_components, len(vt)))
    # With fewer samples than dimensions the SVD has fewer rows; pad with zero variance so
    # that components 0 and 1 always exist for a 2-D map.
    components, explained = vt[:k], explained[:k]
    if len(components) < 2 <= x.shape[1]:
        extra = _orthonormal_complement(components, x.shape[1], 2 - len(components))
        components = np.vstack([components, extra])
        explained = np.concatenate([explained, np.zeros(len(extra))])
    return PCAFit(mean, components, explained)


def _orthonormal_complement(rows: np.ndarray, dim: int, count: int) -> np.ndarray:
    """``count`` unit vectors orthogonal to ``rows`` and to each other."""
    basis = list(rows)
    out = []
    for axis in range(dim):
        v = np.zeros(dim)
        v[axis] = 1.0
        for b in basis:
            v -= (v @ b) * b
        norm = np.linalg.norm(v)
        if norm > 1e-8:
            v /= norm
            basis.append(v)
            out.append(v)
            if len(out) == count:
                break
    return np.array(out).reshape(-1, dim)
