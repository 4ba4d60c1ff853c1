"""Writing a denoised photo the way every output is written: the source's bit depth and
metadata, a JSON sidecar saying how it was made, atomically, and never over the source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from aestudio import __version__
from aestudio.core.denoise.mix import mix
from aestudio.core.errors import UserError
from aestudio.core.io.atomic import atomic_write_bytes
from aestudio.core.io.convert import from_float
from aestudio.core.io.outputs import check_output_file
from aestudio.core.io.read import read_metadata
from aestudio.core.io.write import write_image
from aestudio.core.models.modelfile import LoadedModel

__all__ = ["OverwriteError", "save_compare_result", "write_denoised"]


class OverwriteError(UserError, ValueError):
    """An output would replace an input image."""


def write_denoised(loaded: LoadedModel, source: Path, target: Path, result: np.ndarray, *,
                   settings: dict[str, Any], seconds: float) -> Path:
    """Write ``result`` (H, W, C integer, the source's dtype) and its sidecar.

    Parameters
    ----------
    loaded
        The model that made it (named in the sidecar).
    source, target
        The photo denoised and the file to write (its format from the suffix).
    result
        The denoised pixels.
    settings
        How it was made (amount, luma, chroma, tile, precision), for the sidecar.
    seconds
        How long it took.

    Returns
    -------
    Path
        ``target``; its sidecar is the same path plus ``.json``.

    Raises
    ------
    OverwriteError
        When ``target`` is ``source``.
    """
    if target.resolve() == source.resolve():
        raise OverwriteError(f"refusing to overwrite the input {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_image(target, result, read_metadata(source))
    height, width = result.shape[:2]
    sidecar = {
        "source": str(source),
        "output": str(target),
        "model": loaded.meta.get("architecture"),
        "model_config": loaded.meta.get("model_config"),
        "model_training": {k: (loaded.meta.get("train") or {}).get(k)
                           for k in ("task", "noise")},
        "settings": settings,
        "size": [width, height],
        "channels": int(result.shape[2]) if result.ndim == 3 else 1,
        "bit_depth": int(np.iinfo(result.dtype).bits),
        "seconds": round(seconds, 3),
        "aestudio_version": __version__,
    }
    atomic_write_bytes(target.with_name(target.name + ".json"),
                       json.dumps(sidecar, indent=2).encode("utf-8"))
    return target


def save_compare_result(loaded: LoadedModel, source: str | Path, target: str | Path,
                        noisy: np.ndarray, denoised: np.ndarray, dtype: np.dtype, *,
                        amount: float = 1.0, luma: float = 1.0, chroma: float = 1.0) -> Path:
    """Save what the compare view shows: the model's output mixed with its input.

    Parameters
    ----------
    loaded
        The model that denoised it.
    source
        The photo's file.
    target
        The file to write; never ``source``, checked writable first.
    noisy, denoised
        The model's input and output, float (H, W, C) in [0, 1].
    dtype
        The photo's integer dtype: the file keeps its bit depth.
    amount, luma, chroma
        The strengths of :func:`~aestudio.core.denoise.mix.mix`, as the view shows them.

    Returns
    -------
    Path
        ``target``.
    """
    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise OverwriteError(f"refusing to overwrite the input {source}")
    check_output_file(target, inputs=[source])
    shown = mix(np.asarray(noisy, np.float32), np.asarray(denoised, np.float32),
                amount=amount, luma=luma, chroma=chroma)
    result = from_float(shown, np.dtype(dtype))
    settings = {"amount": amount, "luma": luma, "chroma": chroma, "tile": None,
                "precision": "as previewed"}
    return write_denoised(loaded, source, target, result, settings=settings, seconds=0.0)
