"""Paths between two latent codes, for decoding interpolation strips.

Linear interpolation is the default. Spherical interpolation suits VAEs with more than a few
latent dimensions, where codes concentrate near a shell and the straight line between two of
them passes through unusually short, atypical codes.

Both functions take two codes of the same shape, usually (D,) (a single (1, D) row is taken
as (D,)), as tensors or array-likes, and return ``steps`` codes stacked as (steps, D) in the
codes' floating dtype (float32 for integer input) on the first code's device. The first and
last rows equal the inputs exactly. Work is done in float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from aestudio.core.models.base import Autoencoder
from aestudio.core.models.inference import decode, encode

__all__ = ["INTERPOLATION_MODES", "interpolate", "interpolate_images", "lerp", "slerp"]

INTERPOLATION_MODES: tuple[str, ...] = ("lerp", "slerp")

# Below this angle (radians) the great-circle and straight paths agree to ~1e-9 relative,
# and the slerp weights would divide by a tiny sine.
_MIN_ANGLE = 1e-4
# A code shorter than this has no usable direction; interpolate linearly instead.
_ZERO_NORM = 1e-12
# Below this sine the codes are opposite for practical purposes and the plane between them
# is undefined; one is chosen.
_OPPOSITE_SINE = 1e-9

CodeLike = torch.Tensor | np.ndarray


def _prepare(
    z0: CodeLike, z1: CodeLike, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.dtype, torch.Tensor]:
    """Validate and return (a, b, result dtype, t) with a, b, t in float64."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2 (both endpoints), got {steps!r}")
    a = torch.as_tensor(z0)
    b = torch.as_tensor(z1, device=a.device)
    if a.dim() == 2 and a.shape[0] == 1 and b.shape == a.shape:
        a, b = a[0], b[0]  # a single encoder output row
    if a.shape != b.shape:
        raise ValueError(f"codes differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    if a.numel() == 0:
        raise ValueError("cannot interpolate empty codes")
    dtype = torch.promote_types(a.dtype, b.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float32
    t = torch.linspace(0.0, 1.0, int(steps), dtype=torch.float64, device=a.device)
    return a.to(torch.float64), b.to(torch.float64), dtype, t


def _finish(
    path: torch.Tensor, a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    path = path.to(dtype)
    # Pin the endpoints: decoding the first and last step must give the inputs' decodings.
    path[0] = a.to(dtype)
    path[-1] = b.to(dtype)
    return path


def _lerp64(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t.view(-1, *([1] * a.dim()))
    # (1 - t) * a + t * b rather than a + t * (b - a): exact at both ends.
    return (1.0 - t) * a + t * b


def lerp(z0: CodeLike, z1: CodeLike, steps: int) -> torch.Tensor:
    """Linear interpolation from ``z0`` to ``z1``.

    Parameters
    ----------
    z0, z1 : torch.Tensor or array-like
        Codes of equal shape, usually (D,).
    steps : int
        Number of codes returned, endpoints included; at least 2.

    Returns
    -------
    torch.Tensor
        (steps, D), evenly spaced; row 0 equals ``z0`` and row -1 equals ``z1`` exactly.
    """
    a, b, dtype, t = _prepare(z0, z1, steps)
    return _finish(_lerp64(a, b, t), a, b, dtype)


def _orthogonal_unit(u: torch.Tensor) -> torch.Tensor | None:
    """A unit vector orthogonal to unit vector ``u``, or None in one dimension."""
    if u.numel() < 2:
        return None
    # The axis least aligned with u gives the best-conditioned Gram-Schmidt step.
    k = int(torch.argmin(u.abs()))
    v = -u[k] * u
    v[k] += 1.0
    return v / torch.linalg.vector_norm(v)


def slerp(z0: CodeLike, z1: CodeLike, steps: int) -> torch.Tensor:
    """Spherical interpolation: turn along the great circle, scale the norm linearly.

    The direction rotates at constant angular speed in the plane of ``z0`` and ``z1`` while
    the norm goes linearly from ``|z0|`` to ``|z1|``, so equal-norm endpoints give a path of
    constant norm and unequal norms still give exact endpoints.

    Special cases, none of which produce NaN:

    - an angle below 1e-4 rad, or a (near) zero code: plain linear interpolation;
    - opposite codes: the rotation plane is undefined, so a fixed plane through ``z0`` is
      chosen (in one dimension there is none, and the path is linear through zero).

    Parameters
    ----------
    z0, z1 : torch.Tensor or array-like
        Codes of equal shape, usually (D,).
    steps : int
        Number of codes returned, endpoints included; at least 2.

    Returns
    -------
    torch.Tensor
        (steps, D); row 0 equals ``z0`` and row -1 equals ``z1`` exactly.
    """
    a, b, dtype, t = _prepare(z0, z1, steps)
    fa, fb = a.reshape(-1), b.reshape(-1)
    norm_a, norm_b = torch.linalg.vector_norm(fa), torch.linalg.vector_norm(fb)
    if norm_a < _ZERO_NORM or norm_b < _ZERO_NORM:
        return _finish(_lerp64(a, b, t), a, b, dtype)
    ua, ub = fa / norm_a, fb / norm_b
    cos = torch.dot(ua, ub).clamp(-1.0, 1.0)
    # Component of ub orthogonal to ua; atan2 of (sin, cos) is accurate at every angle,
    # unlike acos near 0 and pi.
    ortho = ub - cos * ua
    sin = torch.linalg.vector_norm(ortho)
    angle = float(torch.atan2(sin, cos))
    if angle < _MIN_ANGLE:
        return _finish(_lerp64(a, b, t), a, b, dtype)
    if sin < _OPPOSITE_SINE:
        v = _orthogonal_unit(ua)
        if v is None:
            return _finish(_lerp64(a, b, t), a, b, dtype)
        angle = math.pi
    else:
        v = ortho / sin
    theta = (t * angle)[:, None]
    directions = torch.cos(theta) * ua + torch.sin(theta) * v
    radii = ((1.0 - t) * norm_a + t * norm_b)[:, None]
    path = (radii * directions).reshape(len(t), *a.shape)
    return _finish(path, a, b, dtype)


def interpolate(z0: CodeLike, z1: CodeLike, steps: int, mode: str = "lerp") -> torch.Tensor:
    """Interpolate between two codes with the named method.

    Parameters
    ----------
    z0, z1 : torch.Tensor or array-like
        Codes of equal shape, usually (D,).
    steps : int
        Number of codes returned, endpoints included; at least 2.
    mode : {"lerp", "slerp"}, default "lerp"
        See :func:`lerp` and :func:`slerp`.

    Returns
    -------
    torch.Tensor
        (steps, D).

    Raises
    ------
    ValueError
        On an unknown mode, fewer than 2 steps or codes of different shapes.
    """
    if mode == "lerp":
        return lerp(z0, z1, steps)
    if mode == "slerp":
        return slerp(z0, z1, steps)
    raise ValueError(
        f"unknown interpolation mode {mode!r}; choose one of {', '.join(INTERPOLATION_MODES)}"
    )
def interpolate_images(model: Autoencoder, first: torch.Tensor, second: torch.Tensor,
                       steps: int, mode: str = "lerp") -> tuple[np.ndarray, np.ndarray]:
    """Frames between two images (C, S, S), decoded in one batch.

    Returns
    -------
    tuple
        The frames (steps, S, S, C) float32 and the codes (steps, D) they decode.
    """
    codes = encode(model, torch.stack([first, second]))
    path = interpolate(torch.from_numpy(codes[0]), torch.from_numpy(codes[1]), steps, mode)
    return decode(model, path), path.numpy()
