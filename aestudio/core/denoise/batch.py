"""Denoising image files at full resolution: format, bit depth and metadata kept."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from aestudio import __version__
from aestudio.core.denoise.apply import denoise_tensor, mix_denoised
from aestudio.core.io.convert import to_float
from aestudio.core.io.read import read_image, read_metadata
from aestudio.core.io.write import write_image
from aestudio.core.models.inference import model_device
from aestudio.core.models.modelfile import LoadedModel
from aestudio.core.runtime.precision import mixed_precision_dtype

# (file index, file count, file name, fraction of this file done)
FileProgress = Callable[[int, int, str, float], None]


def output_path(source: Path, out_dir: Path, relative: str | None = None, suffix: str = "") -> Path:
    """Where the denoised ``source`` goes: same stem (plus ``suffix``) and format."""
    rel = Path(relative) if relative else Path(source.name)
    return out_dir / rel.parent / f"{rel.stem}{suffix}{rel.suffix}"


def blend(noisy: torch.Tensor, denoised: torch.Tensor, amount: float, *, luma: float = 1.0,
          chroma: float = 1.0) -> torch.Tensor:
    """``amount`` 0 keeps the input, 1 the denoised image; ``luma`` and ``chroma`` set the
    strengths of the luminance and colour corrections (see
    :func:`~aestudio.core.denoise.apply.mix_denoised`)."""
    return mix_denoised(noisy, denoised, amount=amount, luma=luma, chroma=chroma)


def _to_integer(y: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """(C, H, W) float in [0, 1] to an (H, W, C) integer image, as
    :func:`~aestudio.core.io.convert.from_float` does, but in place to spare a large
    photo several full-size float copies."""
    top = float(np.iinfo(dtype).max)
    y = y.nan_to_num_(0.0).clamp_(0.0, 1.0).mul_(top).round_()
    return y.permute(1, 2, 0).numpy().astype(dtype)


def denoise_file(
    loaded: LoadedModel,
    source: Path,
    target: Path,
    *,
    tile: int | None = None,
    amount: float = 1.0,
    luma: float = 1.0,
    chroma: float = 1.0,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
    mixed_precision: bool = True,
) -> Path:
    """Denoise one file into ``target``, keeping bit depth, EXIF and ICC; write a JSON sidecar.

    Parameters
    ----------
    loaded
        The denoiser.
    source, target
        Input and output image files; ``target`` must not be ``source``.
    tile
        Tile side in pixels (default: chosen for the device).
    amount
        0 keeps the input, 1 the full denoised result.
    luma, chroma
        Strength (0 to 1) of the luminance and of the colour correction: ``luma=0,
        chroma=1`` removes colour noise and keeps grain.
    progress
        Called with the fraction of this file done.
    stop
        When set, :class:`~aestudio.core.denoise.tiling.InferenceCancelled` is raised and
        nothing is written.
    mixed_precision
        As in :func:`~aestudio.core.denoise.apply.denoise_tensor` (False: float32 throughout).

    Returns
    -------
    Path
        The written image (its sidecar is the same path plus ``.json``).
    """
    if target.resolve() == source.resolve():
        raise ValueError(f"refusing to overwrite the input {source}")
    started = time.perf_counter()
    image, info = read_image(source)
    metadata = read_metadata(source)
    x = torch.from_numpy(to_float(image)).permute(2, 0, 1).contiguous()
    dtype = image.dtype
    del image  # the float copy is all that is needed from here on
    tile_progress = (lambda done, total: progress(done / max(total, 1))) if progress else None
    y = denoise_tensor(loaded.model, x, tile=tile, progress=tile_progress, stop=stop,
                       mixed_precision=mixed_precision)
    reduced = mixed_precision_dtype(model_device(loaded.model)) if mixed_precision else None
    y = blend(x, y, amount, luma=luma, chroma=chroma)
    del x
    result = _to_integer(y, dtype)
    del y
    target.parent.mkdir(parents=True, exist_ok=True)
    write_image(target, result, metadata)
    sidecar = {
        "source": str(source),
        "output": str(target),
        "model": loaded.meta.get("architecture"),
        "model_config": loaded.meta.get("model_config"),
        "model_training": {k: (loaded.meta.get("train") or {}).get(k)
                           for k in ("task", "noise")},
        "settings": {"amount": amount, "luma": luma, "chroma": chroma, "tile": tile,
                     "precision": str(reduced or torch.float32).removeprefix("torch.")},
        "size": [info.width, info.height],
        "channels": info.channels,
        "bit_depth": int(np.iinfo(result.dtype).bits),
        "seconds": round(time.perf_counter() - started, 3),
        "aestudio_version": __version__,
    }
    target.with_name(target.name + ".json").write_text(json.dumps(sidecar, indent=2))
    return target


def denoise_files(
    loaded: LoadedModel,
    files: Sequence[Path | tuple[Path, str]],
    out_dir: Path,
    *,
    tile: int | None = None,
    amount: float = 1.0,
    luma: float = 1.0,
    chroma: float = 1.0,
    suffix: str = "",
    progress: FileProgress | None = None,
    stop: threading.Event | None = None,
    mixed_precision: bool = True,
) -> list[tuple[Path, Path]]:
    """Denoise many files into ``out_dir``; inputs are never overwritten.

    Parameters
    ----------
    files
        Paths, or (path, relative output path) pairs that keep a folder's layout.
    amount, luma, chroma, tile, mixed_precision
        As in :func:`denoise_file`.
    suffix
        Added to each output file's stem.
    progress
        Called as ``progress(file index, file count, file name, fraction of that file)``.
    stop
        Checked between files (and between tiles): when set, the files done so far stay.

    Returns
    -------
    list of tuple
        (source, written output) pairs.
    """
    items = [(f, None) if isinstance(f, Path) else (Path(f[0]), f[1]) for f in files]
    inputs = {p.resolve() for p, _ in items}
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, Path]] = []
    taken: set[Path] = set()
    for index, (source, relative) in enumerate(items):
        if stop is not None and stop.is_set():
            break
        target = output_path(source, out_dir, relative, suffix)
        n = 1
        while target.resolve() in inputs or target.resolve() in taken:
            target = output_path(source, out_dir, relative, f"{suffix}-{n}")
            n += 1
        taken.add(target.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)

        def file_progress(fraction: float, index: int = index, name: str = source.name) -> None:
            if progress:
                progress(index, len(items), name, fraction)

        denoise_file(loaded, source, target, tile=tile, amount=amount, luma=luma, chroma=chroma,
                     progress=file_progress, stop=stop, mixed_precision=mixed_precision)
        written.append((source, target))
    return written
