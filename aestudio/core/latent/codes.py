"""The codes of an image folder: read at a model's size and channels, then encoded.

:func:`encode_folder` reads a folder and encodes it (VAEs give posterior means), with each
image's reconstruction error; :func:`encode_images` does the encoding part for images
already in memory. Both return plain numpy arrays; torch is imported only when something
is encoded, so importing this module stays cheap.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aestudio.core.data.cache import default_cache_dir
from aestudio.core.data.decode import decode_folder
from aestudio.core.data.records import ScanCancelled
from aestudio.core.data.scan import scan_folder

if TYPE_CHECKING:
    from aestudio.core.models.base import Autoencoder

__all__ = ["FolderCodes", "ScanCancelled", "encode_folder", "encode_images"]

ENCODE_CHUNK = 1024
# Reconstructions are kept for the explorer up to this size (decoding them again on every
# click would cost a model call per selected image).
KEEP_RECONSTRUCTIONS_BYTES = 512 * 1024**2

ProgressFn = Callable[[str, int, int], None]


@dataclass
class FolderCodes:
    """Codes of a set of images, with what the explorer shows beside them.

    Attributes
    ----------
    codes : numpy.ndarray
        (N, D) float32 latent codes (posterior means for VAEs).
    images : numpy.ndarray
        (N, C, S, S) integer images as the model saw them (uint8, or uint16 at 16 bits).
    scale : float
        255 or 65535: divides ``images`` into [0, 1].
    paths : tuple of str
        Relative paths (posix) under ``root``.
    labels : tuple of str
        Each image's label (first-level subfolder name, "" for none).
    errors : numpy.ndarray
        (N,) mean squared error of each reconstruction, on the [0, 1] scale.
    root : str
        The folder.
    reconstructions : numpy.ndarray or None
        (N, C, S, S) the model's outputs, in the dtype of ``images``; kept only when they
        fit in :data:`KEEP_RECONSTRUCTIONS_BYTES`.
    """

    codes: np.ndarray
    images: np.ndarray
    scale: float
    paths: tuple[str, ...]
    labels: tuple[str, ...]
    errors: np.ndarray
    root: str = ""
    notes: tuple[str, ...] = ()
    reconstructions: np.ndarray | None = None
    label_names: tuple[str, ...] = field(init=False)
    label_index: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        names, index = np.unique(np.asarray(self.labels, dtype=str), return_inverse=True)
        self.label_names = tuple(str(n) for n in names)
        self.label_index = index.astype(np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[1])

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as (S, S, C) float32 in [0, 1]."""
        return (np.asarray(self.images[i], np.float32) / self.scale).transpose(1, 2, 0)

    def reconstruction(self, i: int) -> np.ndarray | None:
        """The model's output for image ``i``, (S, S, C) float32, when kept."""
        if self.reconstructions is None:
            return None
        return (np.asarray(self.reconstructions[i], np.float32) / self.scale).transpose(1, 2, 0)

    def images_hwc(self, index: Sequence[int] | np.ndarray) -> np.ndarray:
        """Images at ``index`` as (n, S, S, C) float32 in [0, 1]."""
        batch = np.asarray(self.images[np.asarray(index, np.int64)], np.float32) / self.scale
        return batch.transpose(0, 2, 3, 1)




def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise ScanCancelled("stopped")


def encode_images(
    model: Autoencoder,
    images: np.ndarray,
    scale: float,
    *,
    batch_size: int = ENCODE_CHUNK,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    keep: bool = False,
    reconstruct: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Codes, reconstruction errors (and reconstructions) of integer images (N, C, S, S).

    Parameters
    ----------
    model : Autoencoder
        In any mode; it is put in eval mode.
    images : numpy.ndarray
        (N, C, S, S) at the model's size and channels.
    scale : float
        255 or 65535.
    batch_size : int
        Images per chunk; stop is checked between chunks.
    progress : callable, optional
        ``progress(done, total)`` after each chunk.
    stop : threading.Event, optional
        Raises :class:`ScanCancelled` when set.
    keep : bool
        Also return the reconstructions, (N, C, S, S) in the dtype of ``images``.
    reconstruct : bool
        False: codes only (no decoding; errors and reconstructions are None).

    Returns
    -------
    tuple
        Codes (N, D) float32, per-image MSE (N,) float32 or None, and the reconstructions
        or None.
    """
    import torch

    from aestudio.core.models import inference

    n = len(images)
    codes = np.empty((n, model.latent_dim), np.float32)
    errors = np.empty(n, np.float32) if reconstruct else None
    dtype = np.asarray(images[:1]).dtype
    kept = np.empty(np.shape(images), dtype) if keep and reconstruct else None
    for start in range(0, n, batch_size):
        _check(stop)
        x = torch.from_numpy(np.asarray(images[start:start + batch_size], np.float32) / scale)
        z = inference.encode(model, x, batch_size)
        codes[start:start + len(x)] = z
        if errors is not None:
            out = inference.decode(model, z, batch_size)
            target = x.permute(0, 2, 3, 1).numpy()
            errors[start:start + len(x)] = np.square(out - target).reshape(len(x),
                                                                           -1).mean(axis=1)
            if kept is not None:
                kept[start:start + len(x)] = np.rint(np.clip(out, 0, 1) * scale).astype(
                    dtype).transpose(0, 3, 1, 2)
        if progress is not None:
            progress(min(start + batch_size, n), n)
    return codes, errors, kept


def encode_folder(
    model: Autoencoder,
    folder: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    cache_dir: Path | None = None,
    limit: int | None = None,
) -> FolderCodes:
    """Read a folder at the model's size and channels and encode every image.

    Parameters
    ----------
    model : Autoencoder
        Gives the image size, channels and codes.
    folder : str or PathLike
        Image folder; labels are first-level subfolder names.
    progress : callable, optional
        ``progress(stage, done, total)`` with stage "scanning", "decoding" or "encoding".
    stop : threading.Event, optional
        When set, raises :class:`ScanCancelled`.
    cache_dir : Path, optional
        Decoded-image cache; default :func:`default_cache_dir`.
    limit : int, optional
        Keep at most this many images (an evenly spaced subset, in folder order).

    Returns
    -------
    FolderCodes
    """
    if getattr(model, "latent_dim", None) is None:
        raise ValueError("this model has no latent code to map")

    def stage(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda d, t: progress(name, d, t))

    scan = scan_folder(folder, min_size=1, progress=stage("scanning"), stop=stop)
    decoded = decode_folder(scan, size=model.image_size, channels=model.channels,
                            progress=stage("decoding"), stop=stop,
                            cache_dir=cache_dir or default_cache_dir())
    images = decoded.images
    keep = np.arange(len(decoded))
    if limit is not None and len(keep) > limit:
        keep = np.linspace(0, len(keep) - 1, limit).round().astype(np.int64)
        images = images[keep]
    images = np.ascontiguousarray(images)
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    small = images.nbytes <= KEEP_RECONSTRUCTIONS_BYTES
    codes, errors, reconstructions = encode_images(model, images, scale, keep=small, stop=stop,
                                                   progress=stage("encoding"))
    records = [decoded.records[i] for i in keep]
    notes = [*decoded.notes]
    if decoded.skipped:
        notes.append(f"{len(decoded.skipped)} files skipped")
    return FolderCodes(codes=codes, images=images, scale=scale,
                       paths=tuple(r.relpath for r in records),
                       labels=tuple(r.label for r in records), errors=errors,
                       root=str(scan.root), notes=tuple(notes),
                       reconstructions=reconstructions)


