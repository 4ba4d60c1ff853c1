"""Where a model's training folder is, kept on this computer and out of the model file.

A model file is often shared; the absolute path of the folder it was trained on would tell
strangers the trainer's folder names. The file keeps only the folder's name; this computer
remembers, per model file, the full path, so that training can be continued here without
asking for the folder again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aestudio.core.data.cache import default_cache_dir
from aestudio.core.errors import DatasetError
from aestudio.core.io.atomic import atomic_write_bytes

__all__ = ["folder_for_resume", "recall_training_folder", "remember_training_folder",
           "shared_folder_name"]

_INDEX_NAME = "training-folders.json"
_MAX_ENTRIES = 2000


def _index_path() -> Path:
    return default_cache_dir() / _INDEX_NAME


def _key(model_path: str | os.PathLike[str]) -> str:
    return str(Path(model_path).expanduser().resolve())


def _read_index() -> dict[str, str]:
    try:
        index = json.loads(_index_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(index, dict):
        return {}
    return {k: v for k, v in index.items() if isinstance(k, str) and isinstance(v, str)}


def shared_folder_name(folder: str | os.PathLike[str]) -> str:
    """What a model file records of its training folder: the folder's name alone."""
    text = str(folder)
    return Path(text).name or text if text else ""


def remember_training_folder(model_path: str | os.PathLike[str],
                             folder: str | os.PathLike[str]) -> None:
    """Remember on this computer that ``model_path`` was trained on ``folder``.

    Best effort: a cache folder that cannot be written costs only the convenience.
    """
    if not str(folder):
        return
    index = _read_index()
    key, value = _key(model_path), str(Path(folder).expanduser().resolve())
    if index.get(key) == value:
        return
    index.pop(key, None)
    index[key] = value
    while len(index) > _MAX_ENTRIES:  # the oldest entries go first
        index.pop(next(iter(index)))
    try:
        _index_path().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(_index_path(), json.dumps(index, indent=1).encode("utf-8"),
                           durable=False)
    except OSError:
        pass


def recall_training_folder(model_path: str | os.PathLike[str]) -> str | None:
    """The folder ``model_path`` was trained on here, when it still exists."""
    folder = _read_index().get(_key(model_path))
    return folder if folder and Path(folder).is_dir() else None


def folder_for_resume(model_path: str | os.PathLike[str], recorded: str,
                      given: str | os.PathLike[str] | None = None) -> str:
    """The folder to continue training ``model_path`` on.

    Parameters
    ----------
    model_path
        The model file.
    recorded
        The folder its file records: a name (or, in older files, a full path).
    given
        The folder open now, used when the training folder itself is not found.

    Raises
    ------
    DatasetError
        When no folder is given and this computer does not know where the training folder is.
    """
    if recorded and Path(recorded).is_absolute() and Path(recorded).is_dir():
        return recorded
    remembered = recall_training_folder(model_path)
    if remembered:
        return remembered
    if given and Path(given).expanduser().is_dir():
        return str(given)
    name = shared_folder_name(recorded) or "?"
    raise DatasetError(f"{Path(model_path).name} was trained on a folder named {name!r} that "
                       "this computer does not know; open that folder to continue training")
