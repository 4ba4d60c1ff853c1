"""Neighbour embedding for autoencoder codes: images that look alike get nearby codes.

The term is parametric UMAP's (Sainburg, McInnes and Gentner, 2021): a k-nearest-neighbour
graph of the training images is built once; each training batch is half anchors, half one
graph neighbour of each anchor. Codes of a pair are pulled together, codes of every other
pair in the batch pushed apart, both through UMAP's curve 1 / (1 + a d^2b). Added to the
reconstruction loss, it gives a 2-number code whose map separates what the images separate
(digits by digit) while the decoder still turns any point into an image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from aestudio.core.data.pca import fit_pca

# UMAP's curve for min_dist 0.1, spread 1 (umap-learn's find_ab_params).
CURVE_A = 1.577
CURVE_B = 0.8951
# Negatives weigh as much as this many pairs, as in UMAP's negative sampling rate.
NEGATIVE_RATE = 5.0
PCA_DIMS = 50
CHUNK = 1024


def neighbour_graph(pixels: torch.Tensor, k: int = 15,
                    progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """Indices (N, k) of each row's k nearest other rows, by Euclidean distance in the
    top principal components of ``pixels`` (N, P) float (at most ``PCA_DIMS``).

    Computed exactly, in blocks of rows so that memory stays bounded for large sets.
    ``progress`` gets the number of rows done after each block.
    """
    n = len(pixels)
    if n < 2:
        raise ValueError("a neighbour graph needs at least two images")
    k = min(k, n - 1)
    x = pixels.float().numpy()
    pca = fit_pca(x, PCA_DIMS)
    points = torch.from_numpy(((x - pca.mean) @ pca.components.T).astype(np.float32))
    sq = points.square().sum(dim=1)[None, :]
    columns = points.T.contiguous()
    out = torch.empty((n, k), dtype=torch.int64)
    for start in range(0, n, CHUNK):
        block = points[start:start + CHUNK]
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2; |a|^2 is the same along a row, so left out.
        # One fused pass: the (CHUNK, N) block is memory-bound, not arithmetic-bound.
        dist = torch.addmm(sq, block, columns, alpha=-2)
        rows = torch.arange(len(block))
        dist[rows, rows + start] = float("inf")
        out[start:start + CHUNK] = dist.topk(k, dim=1, largest=False).indices
        if progress is not None:
            progress(min(n, start + CHUNK))
    return out


def pair_positions(anchors: torch.Tensor, graph: torch.Tensor,
                   generator: torch.Generator) -> torch.Tensor:
    """``anchors`` followed by one graph neighbour of each, drawn at random."""
    pick = torch.randint(graph.shape[1], (len(anchors),), generator=generator)
    return torch.cat([anchors, graph[anchors, pick]])


def neighbour_loss(codes: torch.Tensor) -> torch.Tensor:
    """UMAP's cross-entropy for a batch of codes laid out as anchors then their partners.

    Each anchor is pulled towards its partner and pushed away from every other code of the
    batch (its own partner and itself excepted).
    """
    half = len(codes) // 2
    anchors, partners = codes[:half].float(), codes[half:2 * half].float()
    # With u = a d^2b, the similarity is q = 1 / (1 + u): -log q = log(1 + u) and
    # -log(1 - q) = log(1 + 1/u), written so that neither saturates: codes that start
    # (or collapse) close together are still pushed apart.
    pulled = _curve((anchors - partners).square().sum(dim=1), floor=1e-6)
    attraction = torch.log1p(pulled).mean()
    sq = torch.cdist(anchors, codes[:2 * half].float()).square()
    others = torch.ones_like(sq, dtype=torch.bool)
    rows = torch.arange(half, device=codes.device)
    others[rows, rows] = False
    others[rows, rows + half] = False
    repulsion = torch.log1p(1.0 / _curve(sq[others], floor=1e-3)).mean()
    return attraction + NEGATIVE_RATE * repulsion


def _curve(sq_dist: torch.Tensor, floor: float) -> torch.Tensor:
    """u = a d^2b; ``floor`` keeps u and its gradient finite at d = 0 (added, not clamped:
    a clamp would leave codes closer than the floor without any push)."""
    return CURVE_A * (sq_dist + floor).pow(CURVE_B)
