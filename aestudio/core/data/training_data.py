"""Training images held in memory, split for validation, and served as batches.

Autoencoders see whole images resized to one square size; full-resolution denoisers
see random patches cut from the decoded images. Batches are built on the CPU from
integer arrays (the cache keeps the native 8 or 16 bits) and moved to the device.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aestudio.core.config import DataConfig
from aestudio.core.data.cache import default_cache_dir
from aestudio.core.data.decode import decode_folder
from aestudio.core.data.records import DecodedSet, ImageRecord, Skipped
from aestudio.core.data.scan import scan_folder

ProgressFn = Callable[[str, int, int], None]

MAX_VAL_PATCHES = 64
SAMPLE_COUNT = 8


@dataclass
class TrainingData:
    """Decoded images plus the train/validation split.

    ``images`` is a uint8/uint16 tensor (N, C, S, S) for whole-image training, or a list
    of (C, H, W) tensors for patch training (``patch`` set).
    """

    images: torch.Tensor | list[torch.Tensor]
    scale: float  # 255 or 65535: divides integer pixels into [0, 1]
    train_index: np.ndarray
    val_index: np.ndarray
    patch: int | None = None
    records: tuple[ImageRecord, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    labels: tuple[str, ...] = ()
    label_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    notes: tuple[str, ...] = ()
    bit_depth: int = 8
    _area_weights: torch.Tensor | None = field(default=None, init=False, repr=False)

    @property
    def channels(self) -> int:
        first = self.images[0]
        return int(first.shape[0])

    @property
    def size(self) -> int | None:
        return None if self.patch else int(self.images.shape[-1])

    @property
    def n_train(self) -> int:
        return len(self.train_index)

    @property
    def n_val(self) -> int:
        return len(self.val_index)

    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        return x.float().mul_(1.0 / self.scale)

    def batch(self, positions: torch.Tensor, generator: torch.Generator,
              augment: bool = False) -> torch.Tensor:
        """Float images (B, C, S, S) in [0, 1]: the training images at ``positions``, or
        as many random patches (any training image, random place) in patch mode."""
        if self.patch is None:
            return self.to_float(self.images[torch.as_tensor(self.train_index)[positions]])
        return self._random_patches(len(positions), generator, augment)

    def steps_per_epoch(self, batch_size: int, patches_per_epoch: int = 0) -> int:
        if self.patch is None:
            return max(1, math.ceil(self.n_train / batch_size))
        if patches_per_epoch <= 0:
            pixels = sum(int(self.images[i].shape[-1] * self.images[i].shape[-2])
                         for i in self.train_index)
            patches_per_epoch = max(batch_size, pixels // (self.patch * self.patch))
        return max(1, patches_per_epoch // batch_size)

    def _patch_weights(self) -> torch.Tensor:
        """Pixel counts of the training images (computed once), the odds of each patch."""
        if self._area_weights is None:
            self._area_weights = torch.tensor(
                [float(self.images[int(i)].shape[-1] * self.images[int(i)].shape[-2])
                 for i in self.train_index], dtype=torch.float64)
        return self._area_weights

    def _random_patches(self, count: int, generator: torch.Generator,
                        augment: bool) -> torch.Tensor:
        p = self.patch
        index = torch.as_tensor(self.train_index)
        # Each image is picked in proportion to its area, so every training pixel is about
        # equally likely to be seen: a few large scans are not drowned by many small images.
        picks = index[torch.multinomial(self._patch_weights(), count, replacement=True,
                                        generator=generator)]
        corners = torch.rand((count, 2), generator=generator)
        flips = torch.randint(8, (count,), generator=generator)
        out = []
        for k, i in enumerate(picks.tolist()):
            img = self.images[i]
            y = int(corners[k, 0] * (img.shape[-2] - p + 1))
            x = int(corners[k, 1] * (img.shape[-1] - p + 1))
            crop = img[:, y:y + p, x:x + p]
            if augment:
                f = int(flips[k])
                crop = torch.rot90(crop, f % 4, dims=(-2, -1))
                if f >= 4:
                    crop = crop.flip(-1)
            out.append(crop)
        return self.to_float(torch.stack(out))

    def validation_batch(self, limit: int | None = None) -> torch.Tensor:
        """Fixed validation images (or patches), the same on every call."""
        index = self.val_index if len(self.val_index) else self.train_index
        if self.patch is None:
            index = index[:limit] if limit else index
            return self.to_float(self.images[torch.as_tensor(index)])
        crops = []
        per_image = max(1, MAX_VAL_PATCHES // max(1, len(index)))
        for i in index:
            img = self.images[int(i)]
            h, w = img.shape[-2:]
            ys = np.linspace(0, h - self.patch, num=int(math.sqrt(per_image)) + 1).astype(int)
            xs = np.linspace(0, w - self.patch, num=int(math.sqrt(per_image)) + 1).astype(int)
            crops += [img[:, y:y + self.patch, x:x + self.patch] for y in ys for x in xs]
        crops = crops[: limit or MAX_VAL_PATCHES]
        return self.to_float(torch.stack(crops))


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split; at least one training image, none held out when n < 2."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction)) if n >= 2 else 0
    n_val = min(n_val, n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def from_decoded(decoded: DecodedSet, *, patch: int | None, val_fraction: float,
                 seed: int) -> TrainingData:
    """Wrap a :class:`DecodedSet` as training data."""
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    if isinstance(decoded.images, np.ndarray):
        images: torch.Tensor | list[torch.Tensor] = _as_tensor(decoded.images)
    else:
        images = [_as_tensor(a) for a in decoded.images]
    n = len(images)
    train_index, val_index = split_indices(n, val_fraction, seed)
    return TrainingData(
        images=images, scale=scale, train_index=train_index, val_index=val_index, patch=patch,
        records=tuple(decoded.records), skipped=tuple(decoded.skipped),
        labels=tuple(decoded.labels), label_index=np.asarray(decoded.label_index),
        notes=tuple(getattr(decoded, "notes", ())), bit_depth=decoded.bit_depth,
    )


def from_arrays(images: np.ndarray | list[np.ndarray], *, patch: int | None = None,
                val_fraction: float = 0.1, seed: int = 0) -> TrainingData:
    """Training data from integer arrays (N, C, S, S) or a list of (C, H, W): for tests."""
    bit_depth = 16 if np.asarray(images[0]).dtype == np.uint16 else 8
    decoded = DecodedSet(images=images, records=(), skipped=(), bit_depth=bit_depth,
                         channels=int(np.asarray(images[0]).shape[-3]), labels=(),
                         label_index=np.zeros(len(images), np.int64))
    return from_decoded(decoded, patch=patch, val_fraction=val_fraction, seed=seed)


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    # torch has no uint16 arithmetic on every backend; int32 keeps 16-bit values exactly.
    array = np.ascontiguousarray(array)
    if array.dtype == np.uint16:
        array = array.astype(np.int32)
    return torch.from_numpy(array)


def load_training_data(
    config: DataConfig,
    *,
    patches: bool,
    seed: int = 0,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    cache_dir: Path | None | bool = True,
) -> TrainingData:
    """Scan and decode ``config.folder`` for training.

    Parameters
    ----------
    config
        Folder, image size or patch size, channels, validation share, pixel limit.
    patches
        True for full-resolution denoisers (random patches), False for autoencoders.
    seed
        Seed of the validation split.
    progress
        Called with ("scanning" | "decoding", done, total).
    stop
        Set to cancel; raises the scanner's cancellation exception.
    cache_dir
        Where decoded images are cached between runs; True for the default folder,
        None or False for no disk cache.

    Raises
    ------
    DatasetError
        When the folder is missing or holds no usable image.
    """
    min_size = config.patch if patches else 1
    scan = scan_folder(
        config.folder, max_pixels=config.max_pixels, min_size=min_size, stop=stop,
        progress=(lambda d, t: progress("scanning", d, t)) if progress else None,
    )
    if cache_dir is True:
        cache_dir = default_cache_dir()
    decoded = decode_folder(
        scan, size=None if patches else config.size, channels=config.channels or None,
        stop=stop, cache_dir=cache_dir or None,
        progress=(lambda d, t: progress("decoding", d, t)) if progress else None,
    )
    return from_decoded(decoded, patch=config.patch if patches else None,
                        val_fraction=config.val_fraction, seed=seed)
