"""The models that ship inside the package, and the names that stand for them.

Wherever a model file is accepted, the name of a bundled model (``photo``) works too: an
existing file of that name wins, so a user's own file is never shadowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BundledModel", "bundled_models", "bundled_name", "resolve_model_path"]

_FOLDER = Path(__file__).resolve().parents[2] / "resources" / "models"


@dataclass(frozen=True)
class BundledModel:
    """A model file shipped with aestudio."""

    name: str
    file: str
    description: str

    @property
    def path(self) -> Path:
        """Where the file lies in the installed package."""
        return _FOLDER / self.file


_BUNDLED = (
    BundledModel("photo", "photo.aemodel",
                 "photos in colour or gray: camera, scan and synthetic noise of any strength"),
)


def bundled_models() -> list[BundledModel]:
    """The bundled models whose files are present, in the order they are listed."""
    return [model for model in _BUNDLED if model.path.is_file()]


def resolve_model_path(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or the file of the bundled model it names when no such file exists.

    Parameters
    ----------
    path : path-like
        A model file, or a bundled model's name (``photo``).

    Returns
    -------
    Path
        The file to open (not checked further: opening it reports what is wrong).
    """
    given = Path(path)
    if given.exists():
        return given
    for model in _BUNDLED:
        if str(path) == model.name:
            return model.path
    return given


def bundled_name(path: str | os.PathLike[str]) -> str | None:
    """The name of the bundled model whose file ``path`` is, or None."""
    try:
        resolved = Path(path).resolve()
    except OSError:
        return None
    for model in _BUNDLED:
        if resolved == model.path:
            return model.name
    return None
