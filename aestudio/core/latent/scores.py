"""Measures of a latent map: neighbour label accuracy and the ranking by error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aestudio.core.latent.layouts import PointIndex

__all__ = ["knn_label_accuracy", "ranked_by_error"]


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
