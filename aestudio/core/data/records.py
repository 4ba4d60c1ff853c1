"""The plain records of the image-folder data set: scan results and decoded sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aestudio.core.io.formats import ImageInfo

__all__ = ["DecodedSet", "ImageRecord", "ScanCancelled", "ScanResult", "Skipped"]


class ScanCancelled(Exception):
    """The stop event was set during a folder scan or decode.

    Raised by :func:`~aestudio.core.data.scan.scan_folder` and
    :func:`~aestudio.core.data.decode.decode_folder`.
    """


@dataclass(frozen=True)
class Skipped:
    """A file left out of the data set, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ImageRecord:
    """One usable image: where it is, its label and its header."""

    path: Path
    relpath: str  # posix, relative to the scan root
    label: str  # first-level subfolder name, "" for files directly in the root
    info: ImageInfo


@dataclass(frozen=True)
class ScanResult:
    """The usable images of a folder, in sorted order, and the files skipped."""

    root: Path
    images: tuple[ImageRecord, ...]
    skipped: tuple[Skipped, ...]
    # Bytes of small files read by the scan, by index into images, with the (mtime, size)
    # they were read at: the decode uses them instead of opening the files again.
    _kept: dict[int, tuple[bytes, str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def labels(self) -> tuple[str, ...]:
        """Sorted unique labels."""
        return tuple(sorted({r.label for r in self.images}))

    @property
    def label_counts(self) -> dict[str, int]:
        """Images per label, in label order."""
        counts = dict.fromkeys(self.labels, 0)
        for r in self.images:
            counts[r.label] += 1
        return counts

    @property
    def channels(self) -> int:
        """1 if every image is gray, else 3."""
        return 1 if all(r.info.channels == 1 for r in self.images) else 3


@dataclass
class DecodedSet:
    """Decoded images ready for training.

    ``images`` is one (N, C, S, S) array in fixed-size mode (a copy-on-write memory map
    when served from the cache) or a list of (C, H, W) arrays in full-size mode; dtype
    uint16 when ``bit_depth`` is 16 (8-bit sources scaled by 257), else uint8.
    """

    images: np.ndarray | list[np.ndarray]
    records: tuple[ImageRecord, ...]
    skipped: tuple[Skipped, ...]
    bit_depth: int
    channels: int
    labels: tuple[str, ...]
    label_index: np.ndarray
    notes: tuple[str, ...] = ()
    from_cache: bool = False
    size: int | None = field(default=None)

    def __len__(self) -> int:
        return len(self.records)

