"""Which files a batch denoises: named image files, and every image inside named folders.

The ``aestudio denoise`` command and the studio's batch queue both list their inputs here,
through the one folder walker (:func:`aestudio.core.io.walk.list_image_files`), so the same
folder gives the same files in the same order. Torch-free.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aestudio.core.data.resize import match_channels
from aestudio.core.errors import UserError, describe_error
from aestudio.core.io.convert import from_float, to_float
from aestudio.core.io.formats import IMAGE_SUFFIXES
from aestudio.core.io.walk import list_image_files

__all__ = ["BatchInputs", "collect_inputs", "read_reference"]


@dataclass(frozen=True)
class BatchInputs:
    """What :func:`collect_inputs` found.

    ``files`` are (path, relative output path) pairs: a folder's images keep their place
    below it, so an output folder can mirror its layout. ``unusable`` are named paths that
    give no image at all (missing, not an image, an empty folder); ``skipped`` are entries
    inside folders the walk could not list. Each is one line for people.
    """

    files: tuple[tuple[Path, str], ...]
    unusable: tuple[str, ...]
    skipped: tuple[str, ...]


def collect_inputs(paths: Sequence[str | os.PathLike[str]],
                   exclude: str | os.PathLike[str] | None = None) -> BatchInputs:
    """List the images to denoise from files and folders (searched recursively).

    Parameters
    ----------
    paths
        Image files and folders, in the order given.
    exclude
        A folder not to enter (the output folder, so a second run does not pick up the
        outputs of the first).

    Returns
    -------
    BatchInputs
        The files in order (no file twice), and one line for each problem.
    """
    files: list[tuple[Path, str]] = []
    unusable: list[str] = []
    skipped: list[str] = []
    seen: set[Path] = set()

    def add(path: Path, relative: str) -> None:
        key = path.absolute()
        if key not in seen:
            seen.add(key)
            files.append((path, relative))

    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            try:
                listing = list_image_files(path, exclude=exclude)
            except OSError as exc:
                unusable.append(describe_error(exc))
                continue
            skipped += [f"{p.path}: {p.reason}" for p in listing.problems]
            if not listing.files:
                unusable.append(f"{path}: no images found")
            for relative in listing.files:
                add(path / relative, relative)
        elif path.is_file():
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                unusable.append(f"{path.name}: not an image file "
                                f"({', '.join(sorted(IMAGE_SUFFIXES))})")
            else:
                add(path, path.name)
        else:
            unusable.append(f"{path}: no such file or folder")
    return BatchInputs(tuple(files), tuple(unusable), tuple(skipped))


def read_reference(path: str | os.PathLike, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A clean reference for an image of ``shape`` and ``dtype``, for PSNR and SSIM.

    Its channels and bit depth are brought to the image's; its size must already match.

    Raises
    ------
    UserError
        The reference has another size.
    ImageReadError
        It cannot be read.
    """
    from aestudio.core.io.read import read_image

    array, _ = read_image(path)
    if array.shape[:2] != tuple(shape[:2]):
        h, w = array.shape[:2]
        raise UserError(f"the reference is {w} × {h} pixels but the image is "
                        f"{shape[1]} × {shape[0]}")
    array = match_channels(array, shape[2])
    if array.dtype != dtype:
        array = from_float(to_float(array), dtype)
    return array
