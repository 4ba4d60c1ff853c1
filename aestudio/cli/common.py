"""Helpers the commands share: inputs, loading a model file, reading and writing images."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from aestudio.core.errors import ConfigError

EXIT_SOME_FAILED = 3  # a batch: some files were skipped, the others written


@contextmanager
def bad_option() -> Iterator[None]:
    """Turn a :class:`ValueError` raised inside into a :class:`ConfigError`.

    Core functions raise :class:`ValueError` for arguments they cannot use; around a call
    whose arguments come straight from the command line, that means a bad option value.
    """
    try:
        yield
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def gather_inputs(paths: Sequence[str]) -> list[tuple[Path, str]]:
    """Image files named directly, plus every image inside named folders, each with the
    relative path its output keeps."""
    from aestudio.core.data.scan import scan_folder

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
            raise FileNotFoundError(errno.ENOENT, "no such file or folder", str(path))
    return files


def load_model(path: str, device: str = "auto"):
    """The model file at ``path`` on ``device`` (``auto`` picks one)."""
    from aestudio.core.models.opening import open_model

    return open_model(path, device)[0]


def need_autoencoder(loaded, command: str) -> None:
    """Raise :class:`ConfigError` unless the loaded model has a latent code."""
    if loaded.model.kind != "autoencoder":
        raise ConfigError(f"{command} needs an autoencoder; {loaded.name} has no latent code")


def read_for_model(path: Path, loaded):
    """The image at ``path`` as the model's input tensor ``(C, H, W)``."""
    from aestudio.core.errors import ImageReadError
    from aestudio.core.io.read import read_image
    from aestudio.core.models.inference import to_model_tensor

    try:
        image, _ = read_image(path)
    except ImageReadError as exc:
        raise ImageReadError(f"{path}: {exc}") from None
    model = loaded.model
    return to_model_tensor([image], model.channels, model.image_size)[0]


def save_float_image(path: Path, array, bit_depth: int = 8) -> None:
    """Write a float image in ``[0, 1]`` as an 8- or 16-bit file."""
    import numpy as np

    from aestudio.core.io.convert import from_float
    from aestudio.core.io.write import write_image

    dtype = np.uint16 if bit_depth == 16 else np.uint8
    write_image(path, from_float(array, dtype))


def checked_output(path: str | Path, inputs: Sequence[str | Path] = (), *,
                   overwrite: bool = False) -> Path:
    """Check the file a command will write, before it starts: never an input, never an
    existing file unless ``--overwrite`` was given, and its folder writable."""
    from aestudio.core.io.outputs import check_output_file

    try:
        return check_output_file(path, inputs=inputs, overwrite=overwrite)
    except FileExistsError:
        raise ConfigError(f"{path} exists; pass --overwrite to replace it") from None


def finish_batch(lines: Sequence[str], failed: Sequence[tuple[Path, str]], total: int,
                 verb: str) -> int:
    """Print a batch's report and return its exit status.

    Parameters
    ----------
    lines
        What happened to each file, in order (written or skipped).
    failed
        ``(file, reason)`` of every file that could not be done.
    total
        How many files the batch had.
    verb
        Past participle for the last line, e.g. ``"denoised"``.

    Returns
    -------
    int
        0 when all were done; 3 when some were skipped and the others done; 2 when none was
        done (a single file's failure is then the one line of the error).
    """
    from aestudio.core.errors import UserError

    if failed and len(failed) == total:
        if total == 1:
            path, reason = failed[0]
            raise UserError(f"{path}: {reason}")
        for line in lines:
            print(line, file=sys.stderr)
        raise UserError(f"none of the {total} files could be {verb}")
    for line in lines:
        print(line, file=sys.stderr)
    return EXIT_SOME_FAILED if failed else 0


def encode_model_folder(args, what: str):
    """Load ``args.model`` (an autoencoder, for command ``what``) and encode ``args.data``
    with a progress bar; the folder's notes go to stderr. Returns ``(loaded, FolderCodes)``."""
    from aestudio.cli.progress import ProgressBar
    from aestudio.core.latent.codes import encode_folder

    loaded = load_model(args.model, args.device)
    need_autoencoder(loaded, what)
    bar = ProgressBar()
    data = encode_folder(loaded.model, args.data,
                         progress=lambda s, d, t: bar.update(d / max(t, 1), f"{s} {d}/{t}"))
    bar.close()
    for note in data.notes:
        print(note, file=sys.stderr)
    return loaded, data


def unique_output(folder: Path, stem: str, suffix: str, inputs: set[Path],
                  taken: set[Path] | None = None) -> Path:
    """``folder/stem+suffix``, never one of the inputs, numbered (``stem-1``) when another
    output of the same run has that name already (``taken`` is updated)."""
    path = folder / f"{stem}{suffix}"
    if path.resolve() in inputs:
        raise ConfigError(f"refusing to overwrite the input {path}; choose another --out folder")
    if taken is not None:
        n = 1
        while path.resolve() in taken or path.resolve() in inputs:
            path = folder / f"{stem}-{n}{suffix}"
            n += 1
        taken.add(path.resolve())
    return path
