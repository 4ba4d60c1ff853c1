"""The background work of the batch queue: finding images, and denoising them one by one.

Both jobs run in a :class:`~aestudio.ui.common.workers.Worker` and call the engine there: the
search lists files with :func:`aestudio.core.denoise.inputs.collect_inputs` (the same listing
as the ``aestudio denoise`` command), the batch is :func:`aestudio.core.denoise.batch.
denoise_files`, whose per-file events (:mod:`aestudio.core.events`) the worker forwards to the
UI thread. Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aestudio.core.errors import describe_error
from aestudio.core.io.formats import ImageInfo
from aestudio.ui.common.workers import JobFn, Worker

if TYPE_CHECKING:
    from aestudio.core.denoise.batch import BatchSummary
    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["FilesFound", "FoundFile", "batch_job", "find_images_job"]


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


def _found(path: Path, relative: str) -> FoundFile:
    from aestudio.core.io.read import read_header

    path = path.resolve()  # here, off the UI thread: the queue compares resolved paths
    try:
        return FoundFile(path, relative, read_header(path))
    except Exception as exc:  # an odd file must not end the search
        return FoundFile(path, relative, None, describe_error(exc))


def find_images_job(paths: Sequence[str | Path], skip: str | Path | None = None) -> JobFn:
    """A job that lists the images in ``paths`` (files, or folders searched recursively).

    A folder's images keep their place below it (``relative``), so the output folder
    mirrors its layout. Files in ``skip`` (the output folder) are not listed.
    """

    def job(worker: Worker) -> FilesFound:
        from aestudio.core.denoise.inputs import collect_inputs

        found = collect_inputs(paths, exclude=skip)
        files: list[FoundFile] = []
        for path, relative in found.files:
            if worker.stop_event.is_set():
                break
            files.append(_found(path, relative))
        return FilesFound(tuple(files), found.unusable + found.skipped)

    return job


def batch_job(
    loaded: LoadedModel,
    files: Sequence[tuple[Path, str]],
    out_dir: Path,
    *,
    tile: int | None = None,
    amount: float = 1.0,
    suffix: str = "",
    luma: float = 1.0,
    chroma: float = 1.0,
) -> JobFn:
    """A job that denoises ``files`` ((path, relative output path)) one by one.

    Event ``index`` values are positions in ``files``. Each output keeps its input's format
    and bit depth (with EXIF, ICC and a JSON sidecar); inputs are never overwritten. ``tile``
    None lets the engine pick a tile size. Stopping ends the batch after the current tile.
    """

    def job(worker: Worker) -> BatchSummary:
        from aestudio.core.denoise.batch import denoise_files

        return denoise_files(loaded, list(files), out_dir, tile=tile, amount=amount,
                             luma=luma, chroma=chroma, suffix=suffix,
                             on_event=worker.emit_event, stop=worker.stop_event)

    return job
