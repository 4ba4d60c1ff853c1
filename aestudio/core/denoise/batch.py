"""Denoising image files at full resolution: format, bit depth and metadata kept.

:func:`denoise_files` is the one batch loop (the ``aestudio denoise`` command and the studio's
batch queue both call it): file by file, with :class:`~aestudio.core.events.FileStarted`,
:class:`~aestudio.core.events.FileProgress` and :class:`~aestudio.core.events.FileDone`
events and a stop flag. A file that cannot be read or written is reported and skipped while
the rest is done; outputs appear whole or not at all (atomic writes) and never replace an
input.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aestudio.core.denoise.apply import denoise_tensor, mix_denoised
from aestudio.core.denoise.save import OverwriteError, write_denoised
from aestudio.core.denoise.tiling import InferenceCancelled
from aestudio.core.errors import ConfigError, UserError, describe_error
from aestudio.core.events import EventCallback, FileDone, FileProgress, FileStarted
from aestudio.core.facts import MIN_TILE
from aestudio.core.io.convert import to_float
from aestudio.core.io.formats import ImageInfo
from aestudio.core.io.outputs import check_output_folder
from aestudio.core.io.read import read_image
from aestudio.core.models.inference import model_device
from aestudio.core.models.modelfile import LoadedModel
from aestudio.core.runtime.precision import mixed_precision_dtype

__all__ = ["BatchSummary", "OverwriteError", "batch_items", "blend", "denoise_file",
           "denoise_files", "output_path", "plan_outputs"]

#: Per-file progress events at most this often (seconds), plus the last one of each file.
PROGRESS_INTERVAL_S = 0.05


@dataclass
class BatchSummary:
    """What a batch did: the files written and skipped, whether it was stopped, and its time."""

    out_dir: Path
    done: list[tuple[Path, Path]] = field(default_factory=list)  # (source, output)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (source, one line)
    notes: list[tuple[Path, str]] = field(default_factory=list)  # (source, one line)
    cancelled: bool = False
    not_started: int = 0  # files never begun because the batch was stopped
    seconds: float = 0.0

    @property
    def written(self) -> list[Path]:
        """The outputs written, in order."""
        return [target for _, target in self.done]

    def describe(self) -> str:
        """One line for people, e.g. ``2 written, 1 failed in 3.1 s``."""
        parts = [f"{len(self.done)} written"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.cancelled:
            parts.append(f"cancelled ({self.not_started} not started)")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"


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
    progress: Callable[[int, int], None] | None = None,
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
        Called as ``progress(done, total)`` in tiles.
    stop
        When set, :class:`~aestudio.core.denoise.tiling.InferenceCancelled` is raised and
        nothing is written.
    mixed_precision
        As in :func:`~aestudio.core.denoise.apply.denoise_tensor` (False: float32 throughout).

    Returns
    -------
    Path
        The written image (its sidecar is the same path plus ``.json``); both are written
        atomically, so a stopped or failed run leaves nothing under their names.

    Raises
    ------
    OverwriteError
        When ``target`` is ``source``.
    """
    return _denoise_one(loaded, source, target, tile=tile, amount=amount, luma=luma,
                        chroma=chroma, progress=progress, stop=stop,
                        mixed_precision=mixed_precision)[0]


def _denoise_one(
    loaded: LoadedModel,
    source: Path,
    target: Path,
    *,
    tile: int | None = None,
    amount: float = 1.0,
    luma: float = 1.0,
    chroma: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    mixed_precision: bool = True,
) -> tuple[Path, ImageInfo]:
    """:func:`denoise_file`, also returning what the source's header said."""
    if target.resolve() == source.resolve():
        raise OverwriteError(f"refusing to overwrite the input {source}")
    started = time.perf_counter()
    image, info = read_image(source)
    x = torch.from_numpy(to_float(image)).permute(2, 0, 1).contiguous()
    dtype = image.dtype
    del image  # the float copy is all that is needed from here on
    y = denoise_tensor(loaded.model, x, tile=tile, progress=progress, stop=stop,
                       mixed_precision=mixed_precision)
    reduced = mixed_precision_dtype(model_device(loaded.model)) if mixed_precision else None
    y = blend(x, y, amount, luma=luma, chroma=chroma)
    del x
    result = _to_integer(y, dtype)
    del y
    settings = {"amount": amount, "luma": luma, "chroma": chroma, "tile": tile,
                "precision": str(reduced or torch.float32).removeprefix("torch.")}
    written = write_denoised(loaded, source, target, result, settings=settings,
                             seconds=time.perf_counter() - started)
    return written, info


def batch_items(files: Sequence[Path | tuple[Path, str]]) -> list[tuple[Path, str | None]]:
    """The (path, relative output path or None) pair of each file of a batch, as
    :func:`denoise_files` accepts them: paths alone, or (path, relative output) pairs."""
    return [(f, None) if isinstance(f, Path) else (Path(f[0]), f[1]) for f in files]


def plan_outputs(sources: Sequence[tuple[Path, str | None]], out_dir: Path,
                 suffix: str = "") -> list[Path]:
    """The output path of each source: :func:`output_path`, numbered where it would be an
    input or another source's output (``name-1.png``, ...).

    Parameters
    ----------
    sources
        (path, relative output path or None) pairs.
    out_dir
        The output folder.
    suffix
        Added to each output file's stem.

    Returns
    -------
    list of Path
        One per source, none of them an input and no two alike.
    """
    inputs = {p.resolve() for p, _ in sources}
    taken: set[Path] = set()
    targets = []
    for source, relative in sources:
        target = output_path(source, out_dir, relative, suffix)
        n = 1
        while target.resolve() in inputs or target.resolve() in taken:
            target = output_path(source, out_dir, relative, f"{suffix}-{n}")
            n += 1
        taken.add(target.resolve())
        targets.append(target)
    return targets


# Disk errors after which no later file could be written either.
_DISK_STOPS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG})


class BatchStopped(UserError):
    """The output disk failed (full, read-only): the batch stopped; files done are complete."""


def _pages_left_out(source: Path, frames: int) -> str | None:
    """A note when ``source`` holds more pages or frames than the one denoised."""
    if frames <= 1:
        return None
    kind = "pages" if source.suffix.lower() in (".tif", ".tiff") else "frames"
    return f"it has {frames} {kind}; only the first was denoised"


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
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    mixed_precision: bool = True,
    targets: Sequence[Path] | None = None,
) -> BatchSummary:
    """Denoise many files into ``out_dir``, one by one; inputs are never overwritten.

    Parameters
    ----------
    loaded
        The denoiser.
    files
        Paths, or (path, relative output path) pairs that keep a folder's layout.
    out_dir
        The output folder (created when missing).
    amount, luma, chroma, tile, mixed_precision
        As in :func:`denoise_file`.
    suffix
        Added to each output file's stem.
    on_event
        Called with :class:`~aestudio.core.events.FileStarted`, throttled
        :class:`~aestudio.core.events.FileProgress` (in tiles) and
        :class:`~aestudio.core.events.FileDone` (its ``error`` is the one-line reason a
        file was skipped).
    stop
        Checked between files and between tiles: when set, the file being denoised is
        dropped (nothing is written under its name), the files done so far stay.
    targets
        The output of each file (default: :func:`plan_outputs`). A part of a larger batch
        passes the whole batch's plan, so that outputs are numbered as in one run.

    Returns
    -------
    BatchSummary
        The files written and skipped, and whether the batch was stopped.
    """
    if suffix and (Path(suffix).name != suffix or suffix in {".", ".."}):
        raise ConfigError(f"the suffix {suffix!r} may not name a folder; use e.g. '-denoised'")
    if tile is not None and tile < MIN_TILE:
        raise ConfigError(f"the tile side must be at least {MIN_TILE} pixels; got {tile}")
    started = time.perf_counter()
    emit = on_event or (lambda event: None)
    items = batch_items(files)
    total = len(items)
    if targets is None:
        targets = plan_outputs(items, out_dir, suffix)
    elif len(targets) != total:
        raise ValueError(f"{len(targets)} targets for {total} files")
    # Before the first file: a read-only or full disk is one error, not one per photo.
    check_output_folder(out_dir)
    summary = BatchSummary(out_dir)
    for index, ((source, _), target) in enumerate(zip(items, targets, strict=True)):
        if stop is not None and stop.is_set():
            summary.cancelled = True
            summary.not_started = total - index
            break
        emit(FileStarted(index, total, str(source)))
        last = [0.0]

        def progress(done: int, tiles: int, index: int = index, last: list = last) -> None:
            now = time.perf_counter()
            if done >= tiles or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                emit(FileProgress(index, done, tiles))

        file_started = time.perf_counter()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _, info = _denoise_one(loaded, source, target, tile=tile, amount=amount,
                                   luma=luma, chroma=chroma, progress=progress, stop=stop,
                                   mixed_precision=mixed_precision)
        except InferenceCancelled:
            summary.cancelled = True
            summary.not_started = total - index - 1
            break
        except Exception as exc:  # one bad file must not end the batch...
            if isinstance(exc, OSError) and exc.errno in _DISK_STOPS:
                # ...but a full or read-only disk fails every later file the same way.
                raise BatchStopped(f"{describe_error(exc)}; the batch stopped after "
                                   f"{len(summary.done)} of {total} files (those are "
                                   "complete)") from exc
            message = describe_error(exc)
            summary.failed.append((source, message))
            emit(FileDone(index, total, str(source), None, message,
                          time.perf_counter() - file_started))
            continue
        summary.done.append((source, target))
        note = _pages_left_out(source, info.frames)
        if note:
            summary.notes.append((source, note))
        emit(FileDone(index, total, str(source), str(target), None,
                      time.perf_counter() - file_started, note))
    summary.seconds = time.perf_counter() - started
    return summary
