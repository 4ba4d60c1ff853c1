"""The background work of the batch queue: finding images, and denoising them one by one.

Both jobs run in a :class:`~aestudio.ui.common.workers.Worker` and report through small frozen
events, so the panel only ever touches widgets on the UI thread. A file that cannot be read
or written fails alone: its event says why and the batch goes on with the next one.
Importing this module does not import torch; the batch job loads the engine when it runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aestudio.core.io.formats import IMAGE_SUFFIXES, ImageInfo
from aestudio.core.io.read import read_header
from aestudio.ui.common.errors import first_line
from aestudio.ui.common.workers import JobFn, Worker

if TYPE_CHECKING:
    from aestudio.core.models.modelfile import LoadedModel

PROGRESS_INTERVAL_S = 0.05  # per-file progress events at most 20 times a second


@dataclass(frozen=True)
class FoundFile:
    """An image to denoise: where it is, where its output goes (relative), its header."""

    path: Path
    relative: str
    info: ImageInfo | None
    problem: str = ""  # why the header could not be read


@dataclass(frozen=True)
class FilesFound:
    files: tuple[FoundFile, ...]
    problems: tuple[str, ...]  # whole paths that could not be used (one line each)


@dataclass(frozen=True)
class FileStarted:
    index: int
    target: Path


@dataclass(frozen=True)
class FileProgress:
    index: int
    fraction: float


@dataclass(frozen=True)
class FileDone:
    index: int
    target: Path
    seconds: float


@dataclass(frozen=True)
class FileFailed:
    index: int
    message: str


@dataclass(frozen=True)
class FileCancelled:
    index: int


@dataclass
class BatchSummary:
    """What a batch did: counts, time and where the outputs are."""

    out_dir: Path
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False
    not_started: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """One line for people, e.g. ``2 written, 1 failed in 3.1 s``."""
        parts = [f"{len(self.written)} written"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.cancelled:
            parts.append(f"cancelled ({self.not_started} not started)")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"


def _image_files(folder: Path, skip: Path | None) -> list[Path]:
    """Image files under ``folder`` (hidden ones and ``skip``, the output folder, left out)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (skip is None or (here / d).resolve() != skip))
        found.extend(here / f for f in sorted(files)
                     if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_SUFFIXES)
    return found


def _found(path: Path, relative: str) -> FoundFile:
    path = path.resolve()  # here, off the UI thread: the queue compares resolved paths
    try:
        return FoundFile(path, relative, read_header(path))
    except Exception as exc:  # an odd file must not end the search
        return FoundFile(path, relative, None, first_line(str(exc)) or type(exc).__name__)


def find_images_job(paths: Sequence[str | Path], skip: str | Path | None = None) -> JobFn:
    """A job that lists the images in ``paths`` (files, or folders searched recursively).

    A folder's images keep their place below it (``relative``), so the output folder
    mirrors its layout. Files in ``skip`` (the output folder) are not listed.
    """
    skip_dir = Path(skip).resolve() if skip else None

    def job(worker: Worker) -> FilesFound:
        files: list[FoundFile] = []
        problems: list[str] = []
        for raw in paths:
            if worker.stop_event.is_set():
                break
            path = Path(raw)
            if path.is_dir():
                images = _image_files(path, skip_dir)
                if not images:
                    problems.append(f"{path}: no images found")
                files.extend(_found(p, p.relative_to(path).as_posix()) for p in images)
            elif path.is_file():
                if path.suffix.lower() not in IMAGE_SUFFIXES:
                    problems.append(f"{path.name}: not an image file "
                                    f"({', '.join(sorted(IMAGE_SUFFIXES))})")
                else:
                    files.append(_found(path, path.name))
            else:
                problems.append(f"{path}: no such file or folder")
        return FilesFound(tuple(files), tuple(problems))

    return job


def batch_job(
    loaded: LoadedModel,
    files: Sequence[tuple[int, Path, str]],
    out_dir: Path,
    *,
    tile: int | None = None,
    amount: float = 1.0,
    suffix: str = "",
    luma: float = 1.0,
    chroma: float = 1.0,
) -> JobFn:
    """A job that denoises ``files`` ((row index, path, relative output path)) one by one.

    Each output keeps its input's format and bit depth (with EXIF, ICC and a JSON sidecar,
    which :func:`~aestudio.core.denoise.batch.denoise_file` writes). Inputs are never
    overwritten. ``amount``, ``luma`` and ``chroma`` set how much of the correction is kept
    (see :func:`~aestudio.core.denoise.apply.mix_denoised`). ``tile`` None lets the engine pick a tile
    size for the device and image. Stopping ends the batch after the current tile.
    """
    def job(worker: Worker) -> BatchSummary:
        from aestudio.core.denoise.batch import denoise_file, output_path
        from aestudio.core.denoise.tiling import InferenceCancelled

        started = time.perf_counter()
        stop = worker.stop_event
        summary = BatchSummary(out_dir)
        inputs = {path.resolve() for _, path, _ in files}
        taken: set[Path] = set()
        for position, (index, source, relative) in enumerate(files):
            if stop.is_set():
                summary.cancelled = True
                summary.not_started = len(files) - position
                break
            target = output_path(source, out_dir, relative, suffix)
            n = 1
            while target.resolve() in inputs or target.resolve() in taken:
                target = output_path(source, out_dir, relative, f"{suffix}-{n}")
                n += 1
            taken.add(target.resolve())
            worker.emit_event(FileStarted(index, target))
            last = [0.0]

            def progress(fraction: float, index: int = index, last: list[float] = last) -> None:
                now = time.perf_counter()
                if now - last[0] >= PROGRESS_INTERVAL_S or fraction >= 1.0:
                    last[0] = now
                    worker.emit_event(FileProgress(index, fraction))

            file_started = time.perf_counter()
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                denoise_file(loaded, source, target, tile=tile, amount=amount, luma=luma,
                             chroma=chroma, progress=progress, stop=stop)
            except InferenceCancelled:
                worker.emit_event(FileCancelled(index))
                summary.cancelled = True
                summary.not_started = len(files) - position - 1
                break
            except Exception as exc:  # one bad file must not end the batch
                message = first_line(str(exc)) or type(exc).__name__
                summary.failed.append((source, message))
                worker.emit_event(FileFailed(index, message))
                continue
            summary.written.append(target)
            worker.emit_event(FileDone(index, target, time.perf_counter() - file_started))
        summary.seconds = time.perf_counter() - started
        return summary

    return job
