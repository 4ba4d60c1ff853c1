"""What the latent explorer decodes: a point, a grid over a region, an interpolation.

Each function takes a model and plain numpy values and returns numpy images, so a caller
runs it wherever it likes (the GUI runs them in worker threads). Torch is imported on first
use, inside the functions: importing this module stays cheap and torch-free.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from aestudio.core.errors import UserError
from aestudio.core.latent.grid import grid_cells, grid_codes, grid_mosaic
from aestudio.core.latent.map import LatentMap

if TYPE_CHECKING:
    from aestudio.core.models.base import Autoencoder

__all__ = [
    "decode_codes",
    "decode_grid",
    "decode_path",
    "grid_spacing",
    "load_autoencoder",
    "measure_decode_ms",
]


def decode_codes(model: Autoencoder, codes: np.ndarray) -> np.ndarray:
    """Images of codes (M, D) as (M, S, S, C) float32 in [0, 1], in one batch."""
    from aestudio.core.models import inference

    return inference.decode(model, codes)


def measure_decode_ms(model: Autoencoder, repeats: int = 7) -> float:
    """Time of one single-code decode in milliseconds: the best of a few after a warm-up.

    The best, not the median: on a busy machine the median measures the other programs.
    """
    z = np.zeros((1, model.latent_dim), np.float32)
    decode_codes(model, z)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        decode_codes(model, z)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.min(times))


def grid_spacing(model: Any, latent_map: LatentMap | None) -> str:
    """The grid spacing that suits a model and map.

    Returns
    -------
    str
        "prior" for a VAE shown by its raw codes (cells of equal prior mass), else
        "uniform".
    """
    vae = getattr(model, "registry_name", "") == "vae"
    codes = latent_map is not None and latent_map.layout == "codes"
    return "prior" if vae and codes else "uniform"


def decode_grid(model: Autoencoder, latent_map: LatentMap, x_range: tuple[float, float],
                y_range: tuple[float, float], n: int, spacing: str = "uniform") -> np.ndarray:
    """An n x n grid of images decoded over a map rectangle, as one mosaic.

    Parameters
    ----------
    model : Autoencoder
        Decodes the cells' codes (one batch).
    latent_map : LatentMap
        Turns the cell centres into codes.
    x_range, y_range : tuple of float
        The rectangle, in map coordinates.
    n : int
        Cells per side.
    spacing : str
        "uniform" or "prior" (see :func:`~aestudio.core.latent.grid.grid_cells`).

    Returns
    -------
    numpy.ndarray
        (n * S, n * S, C) float32, the top row first; with prior spacing each tile is
        stretched over its own cell.
    """
    tiles = decode_codes(model, grid_codes(latent_map, x_range, y_range, n, spacing))
    if spacing == "uniform":
        return grid_mosaic(tiles, n)
    return grid_mosaic(tiles, n, grid_cells(*x_range, n, spacing)[1],
                       grid_cells(*y_range, n, spacing)[1])


def decode_path(model: Autoencoder, latent_map: LatentMap, a: np.ndarray, b: np.ndarray,
                a_xy: tuple[float, float], b_xy: tuple[float, float], steps: int,
                mode: str = "lerp") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolate between two codes, decode the frames in one batch, and place the path.

    Parameters
    ----------
    model : Autoencoder
    latent_map : LatentMap
        Places the path's codes on the map.
    a, b : numpy.ndarray
        The end codes, (D,) each.
    a_xy, b_xy : tuple of float
        The ends' map positions: the path of a non-linear layout, which cannot place new
        codes, is the straight segment between them.
    steps : int
        Frames, both ends included.
    mode : str
        "lerp" or "slerp".

    Returns
    -------
    tuple of numpy.ndarray
        Frames (steps, S, S, C), codes (steps, D) and map positions (steps, 2).
    """
    from aestudio.core.latent.interpolation import interpolate

    codes = interpolate(a, b, steps, mode).numpy()
    frames = decode_codes(model, codes)
    path = latent_map.to_map(codes)
    if path is None:
        t = np.linspace(0, 1, steps)[:, None]
        path = (1 - t) * np.asarray(a_xy) + t * np.asarray(b_xy)
    return frames, codes, path


def load_autoencoder(path: str) -> tuple[Autoencoder, float, str]:
    """Open a model file for mapping, on the best device.

    Returns
    -------
    tuple
        The model, the time of one decode in milliseconds, and the model's name.

    Raises
    ------
    UserError
        When the model has no latent code (a denoiser), or the file cannot be read.
    """
    from aestudio.core.models.opening import open_model

    loaded, _device = open_model(path)
    if loaded.model.kind != "autoencoder" or loaded.model.latent_dim is None:
        raise UserError(f"{loaded.name} has no latent code to map")
    return loaded.model, measure_decode_ms(loaded.model), loaded.name
