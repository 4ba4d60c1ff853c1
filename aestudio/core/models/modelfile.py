"""The ``.aemodel`` file: safetensors weights plus a JSON description in its metadata.

Nothing is ever unpickled: safetensors holds plain tensors, and everything else
(architecture, configs, normalisation, training state) is JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from aestudio import __version__
from aestudio.core.config import SCHEMA_VERSION, ConfigError, json_ready, to_dict
from aestudio.core.errors import ModelFileError
from aestudio.core.facts import MODEL_SUFFIX
from aestudio.core.io.atomic import atomic_write_bytes
from aestudio.core.models import get_entry, make_config
from aestudio.core.models.base import ImageModel
from aestudio.core.models.bundled import resolve_model_path
from aestudio.core.models.memory import check_inference_memory
from aestudio.core.models.summary import FORMAT_NAME, META_KEY, read_model_meta, summarise_meta
from aestudio.core.runtime.precision import to_channels_last

__all__ = ["FORMAT_NAME", "MODEL_SUFFIX", "LoadedModel", "ModelFileError", "load_model_file",
           "read_model_meta", "save_model_file"]
_MODEL_PREFIX = "model."
_OPTIM_PREFIX = "optim."


@dataclass
class LoadedModel:
    """A model read from a file, in eval mode, with its description."""

    model: ImageModel
    meta: dict[str, Any]
    optimizer_state: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.meta["architecture"]

    @property
    def training_state(self) -> dict[str, Any]:
        return self.meta.get("training_state", {})


def optimizer_to_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer ``state_dict`` into named tensors and JSON-able settings."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIM_PREFIX}{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": json_ready(state["param_groups"]), "scalars": scalars}


def optimizer_from_tensors(tensors: dict[str, torch.Tensor], settings: dict[str, Any]) -> dict:
    """Rebuild an optimizer ``state_dict`` from :func:`optimizer_to_tensors` output."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        index, key = name[len(_OPTIM_PREFIX):].split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for index, entry in settings.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entry)
    groups = settings["param_groups"]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise TypeError("param_groups is not a list of settings")
    return {"state": state, "param_groups": groups}


def _check_room_for_weights(path: Path, weights: int) -> None:
    """Refuse a description whose model would need more ``weights`` bytes than the file can
    hold, before building it (a forged header must not allocate gigabytes)."""
    size = path.stat().st_size
    if weights > 2 * size + 1_000_000:  # float32 weights; a little slack for float16 files
        raise ModelFileError(f"{path.name}: its model needs {weights / 1e6:,.0f} MB of weights "
                             f"but the file holds {size / 1e6:,.1f} MB; the file is damaged")


def _check_weights(path: Path, weights: dict[str, torch.Tensor],
                   expected: dict[str, torch.Tensor]) -> None:
    """Refuse weights that are not numbers a model can compute with."""
    for name, tensor in weights.items():
        if not expected[name].is_floating_point():
            continue  # counters such as a batch norm's num_batches_tracked
        if not tensor.is_floating_point():
            raise ModelFileError(f"{path.name}: the weight {name} holds {tensor.dtype} values, "
                                 "not floating-point numbers; the file is damaged")
        if not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{path.name}: the weight {name} holds NaN or infinite values; "
                                 "the file is damaged (or its training diverged)")


def save_model_file(
    path: str | os.PathLike,
    model: ImageModel,
    *,
    data: dict[str, Any] | None = None,
    train: Any = None,
    training_state: dict[str, Any] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write ``model`` and its description atomically as one ``.aemodel`` file.

    Parameters
    ----------
    path
        Destination; the parent folder is created.
    model
        A registered model.
    data
        Facts about the training data: folder, size, channels, bit depth, labels.
    train
        The :class:`~aestudio.core.config.TrainConfig` (or a dict).
    training_state
        Step, epoch, elapsed time and loss history, for resuming and for curves.
    optimizer
        Saved too when given, so that training resumes exactly.

    Returns
    -------
    Path
        The written path.
    """
    path = Path(path)
    tensors = {
        _MODEL_PREFIX + k: v.detach().cpu().contiguous().clone()
        for k, v in model.state_dict().items()
    }
    optim_settings = None
    if optimizer is not None:
        optim_tensors, optim_settings = optimizer_to_tensors(optimizer.state_dict())
        tensors.update(optim_tensors)
    meta = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "app_version": __version__,
        "architecture": model.registry_name,
        "kind": model.kind,
        "model_config": to_dict(model.config),
        "normalisation": {"range": [0.0, 1.0], "channels": model.channels,
                          "image_size": model.image_size},
        "data": json_ready(data or {}),
        "train": train if isinstance(train, dict) or train is None else to_dict(train),
        "training_state": json_ready(training_state or {}),
        "optimizer": optim_settings,
    }
    payload = safetensors_bytes(tensors, metadata={"format": "pt", META_KEY: json.dumps(meta)})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, payload)
    return path


def load_model_file(
    path: str | os.PathLike, *, device: torch.device | str = "cpu", with_optimizer: bool = False
) -> LoadedModel:
    """Load a model file into a model in eval mode.

    Parameters
    ----------
    path
        An ``.aemodel`` file, or a bundled model's name (``photo``).
    device
        Where the model's weights go.
    with_optimizer
        Also return the optimizer state saved in the file, for resuming.

    Raises
    ------
    ModelFileError
        One line saying why the file cannot be used (garbage, unknown architecture,
        weights that do not fit the architecture).
    """
    path = resolve_model_path(path)
    meta = read_model_meta(path)
    summarise_meta(path, meta)  # every part of the description of the right kind
    try:
        config = make_config(meta["architecture"], meta["model_config"])
        cls = get_entry(meta["architecture"]).cls
        _check_room_for_weights(path, check_inference_memory(meta["architecture"], cls, config))
        model = cls(config)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path.name}: cannot rebuild the model ({exc})") from None
    weights: dict[str, torch.Tensor] = {}
    optim: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt") as handle:
            for key in handle.keys():  # noqa: SIM118  (safe_open is not a mapping)
                if key.startswith(_MODEL_PREFIX):
                    weights[key[len(_MODEL_PREFIX):]] = handle.get_tensor(key)
                elif key.startswith(_OPTIM_PREFIX) and with_optimizer:
                    optim[key] = handle.get_tensor(key)
        model.load_state_dict(weights, strict=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:120]
        raise ModelFileError(f"{path.name}: weights do not fit the model ({first})") from None
    _check_weights(path, weights, model.state_dict())
    to_channels_last(model.to(device)).eval()
    optimizer_state = None
    if with_optimizer and meta.get("optimizer"):
        try:
            optimizer_state = optimizer_from_tensors(optim, meta["optimizer"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path.name}: the saved optimizer state is unreadable "
                                 f"({exc}); train anew with --overwrite") from None
    return LoadedModel(model=model, meta=meta, optimizer_state=optimizer_state)
