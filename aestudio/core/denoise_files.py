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
from aestudio.core.imageio import from_float, read_image, read_metadata, to_float, write_image
from aestudio.core.inference import denoise_tensor
from aestudio.core.modelfile import LoadedModel

# (file index, file count, file name, fraction of this file done)
FileProgress = Callable[[int, int, str, float], None]


def output_path(source: Path, out_dir: Path, relative: str | None = None, suffix: str = "") -> Path:
    """Where the denoised ``source`` goes: same stem (plus ``suffix``) and format."""
    rel = Path(relative) if relative else Path(source.name)
    return out_dir / rel.parent / f"{rel.stem}{suffix}{rel.suffix}"


def blend(noisy: torch.Tensor, denoised: torch.Tensor, amount: float) -> torch.Tensor:
    """``amount`` 0 keeps the input, 1 the denoised image."""
    if amount >= 1.0:
        return denoised
    return noisy + amount * (denoised - noisy)


def denoise_file(
    loaded: LoadedModel,
    source: Path,
    target: Path,
    *,
    tile: int | None = None,
    amount: float = 1.0,
    progress: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
) -> Path:
    """Denoise one file into ``target``, keeping bit depth, EXIF and ICC; write a JSON sidecar.

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
    tile_progress = (lambda done, total: progress(done / max(total, 1))) if progress else None
    y = denoise_tensor(loaded.model, x, tile=tile, progress=tile_progress, stop=stop)
    y = blend(x, y, amount)
    result = from_float(y.permute(1, 2, 0).numpy(), image.dtype)
    write_image(target, result, metadata)
    sidecar = {
        "source": str(source),
        "output": str(target),
        "model": loaded.meta.get("architecture"),
        "model_config": loaded.meta.get("model_config"),
        "model_training": {k: (loaded.meta.get("train") or {}).get(k)
                           for k in ("task", "noise")},
        "settings": {"amount": amount, "tile": tile},
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
    suffix: str = "",
    progress: FileProgress | None = None,
    stop: threading.Event | None = None,
) -> list[tuple[Path, Path]]:
    """Denoise many files into ``out_dir``; inputs are never overwritten.

    Parameters
    ----------
    files
        Paths, or (path, relative output path) pairs that keep a folder's layout.
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

        denoise_file(loaded, source, target, tile=tile, amount=amount, progress=file_progress,
                     stop=stop)
        written.append((source, target))
    return written
