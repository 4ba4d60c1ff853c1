"""Helpers the commands share: inputs, loading a model file, reading and writing images."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def _inputs(paths: Sequence[str]) -> list[tuple[Path, str]]:
    """Image files named directly, plus every image inside named folders, each with the
    relative path its output keeps."""
    from aestudio.core.data.imagefolder import scan_folder

    files: list[tuple[Path, str]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            scan = scan_folder(path)
            for skipped in scan.skipped:
                print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
            files += [(record.path, record.relpath) for record in scan.images]
        elif path.is_file():
            files.append((path, path.name))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


def _load(path: str, device: str = "auto"):
    from aestudio.core.models.modelfile import load_model_file
    from aestudio.core.runtime.device import resolve_device

    return load_model_file(path, device=resolve_device(device))


def _need_autoencoder(loaded, command: str) -> None:
    if loaded.model.kind != "autoencoder":
        raise ValueError(f"{command} needs an autoencoder; {loaded.name} has no latent code")


def _read_for_model(path: Path, loaded):
    from aestudio.core.io.imageio import ImageReadError, read_image
    from aestudio.core.models.inference import to_model_tensor

    try:
        image, _ = read_image(path)
    except ImageReadError as exc:
        raise ImageReadError(f"{path}: {exc}") from None
    model = loaded.model
    return to_model_tensor([image], model.channels, model.image_size)[0]


def _save_float_image(path: Path, array, bit_depth: int = 8) -> None:
    import numpy as np

    from aestudio.core.io.imageio import from_float, write_image

    dtype = np.uint16 if bit_depth == 16 else np.uint8
    write_image(path, from_float(array, dtype))


def _unique_output(folder: Path, stem: str, suffix: str, inputs: set[Path]) -> Path:
    """``folder/stem+suffix``, never one of the inputs."""
    path = folder / f"{stem}{suffix}"
    if path.resolve() in inputs:
        raise ValueError(f"refusing to overwrite the input {path}; choose another --out folder")
    return path
