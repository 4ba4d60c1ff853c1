"""Opening a model file on a device, for every entry point (CLI, studio jobs, latent map).

Torch-free to import: torch loads when a model is opened, in the caller's worker thread.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["open_model"]


def open_model(path: str | os.PathLike, device: str = "auto") -> tuple[LoadedModel, str]:
    """Load the model file at ``path`` on ``device`` (``auto`` picks the best one).

    Parameters
    ----------
    path : path-like
        An ``.aemodel`` file.
    device : str
        ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``.

    Returns
    -------
    tuple
        The loaded model and a short name of its device (``CPU (2 cores)``).

    Raises
    ------
    ModelFileError, ConfigError
        The file is not a usable model file, or the device is not available.
    """
    from aestudio.core.models.modelfile import load_model_file
    from aestudio.core.runtime.device import describe_device, resolve_device

    resolved = resolve_device(device)
    return load_model_file(path, device=resolved), describe_device(resolved)
