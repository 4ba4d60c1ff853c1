"""What a model file says about itself, read without its weights and without torch.

A ``.aemodel`` file is safetensors: its JSON description sits in the header metadata, so
the command line's ``info``, the studio's "open model" and the denoise views can describe a
file quickly, in any thread, before (or without) torch is loaded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import safe_open

from aestudio.core.config import SCHEMA_VERSION, DataConfig, TrainConfig, from_dict
from aestudio.core.errors import ModelFileError
from aestudio.core.models.bundled import bundled_name, resolve_model_path

FORMAT_NAME = "aestudio-model"
META_KEY = "aestudio"
# Model options worth naming in a one-line description, in this order.
_SHOWN_OPTIONS = ("width", "depth", "latent_dim", "image_size")


def _open_failure(path: Path, reason: str) -> ModelFileError:
    return ModelFileError(f"{path.name} is not an aestudio model file ({reason})")


def read_model_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON description of a model file, without loading weights.

    Parameters
    ----------
    path
        An ``.aemodel`` file, or a bundled model's name (``photo``).

    Returns
    -------
    dict
        The description as written by :func:`aestudio.core.models.modelfile.save_model_file`.

    Raises
    ------
    ModelFileError
        One line saying why the file cannot be used.
    """
    path = resolve_model_path(path)
    if not path.is_file():
        raise ModelFileError(f"no such model file: {path}")
    if path.stat().st_size == 0:
        raise _open_failure(path, "empty file")
    try:
        # The numpy framework reads the header without importing torch.
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except Exception as exc:  # safetensors raises several types for garbage
        reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise _open_failure(path, f"not a safetensors file: {reason}") from None
    try:
        meta = json.loads(metadata[META_KEY])
    except (KeyError, ValueError):
        raise _open_failure(path, "no aestudio description in its metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _open_failure(path, "unknown format")
    try:
        schema = int(meta.get("schema_version", 0))
    except (TypeError, ValueError):
        raise _open_failure(path, "unreadable schema version") from None
    if schema > SCHEMA_VERSION:
        raise ModelFileError(
            f"{path.name} was written by a newer aestudio (schema {meta['schema_version']}); "
            "update aestudio to open it"
        )
    _keep_old_defaults(meta, schema)
    return meta


# Model options whose defaults changed, with the defaults of the schemas before: a file that
# does not name an option keeps training with the default it was written under.
_DEFAULTS_BEFORE: dict[int, dict[str, dict[str, Any]]] = {
    2: {"conv-ae": {"width": 32, "hidden": 256, "neighbours": 0.0},
        "vae": {"width": 32, "hidden": 256, "neighbours": 0.0}},
    3: {"denoiser": {"spacing": 1}},  # before the spacing was chosen from the noise
}
# The same for training options, by the schema they changed in.
_TRAIN_DEFAULTS_BEFORE: dict[int, dict[str, Any]] = {
    3: {"clip_noise": False},  # synthetic noise was not clipped
}


def _keep_old_defaults(meta: dict[str, Any], schema: int) -> None:
    train = meta.get("train")
    if isinstance(train, dict):
        for changed_in, values in sorted(_TRAIN_DEFAULTS_BEFORE.items(), reverse=True):
            if schema < changed_in:
                for key, value in values.items():
                    train.setdefault(key, value)
    options = meta.get("model_config")
    if not isinstance(options, dict):
        return
    for changed_in, by_model in sorted(_DEFAULTS_BEFORE.items(), reverse=True):
        if schema < changed_in:
            for key, value in by_model.get(str(meta.get("architecture")), {}).items():
                options.setdefault(key, value)


@dataclass(frozen=True)
class ModelSummary:
    """The parts of a model file's description that people and resumed runs use.

    Attributes
    ----------
    path
        The file read.
    architecture, kind
        The registry name and ``"autoencoder"`` or ``"denoiser"``.
    model_config
        The model's options as stored.
    data, train
        The data and training configurations of the run that wrote the file.
    channels, size, patch, bit_depth, labels, n_train, n_val
        Facts about the training images.
    step, epoch, elapsed_s, steps_per_epoch, history, reason, val_loss
        Where training stopped, its loss curves and why it stopped.
    app_version, schema_version
        What wrote the file.
    """

    path: str
    architecture: str
    kind: str
    model_config: dict[str, Any]
    data: DataConfig
    train: TrainConfig
    channels: int | None
    size: int | None
    patch: int | None
    bit_depth: int
    labels: tuple[str, ...]
    n_train: int | None
    n_val: int | None
    step: int
    epoch: int
    elapsed_s: float
    steps_per_epoch: int | None
    history: dict[str, list[list[float]]]
    reason: str
    val_loss: float | None
    app_version: str
    schema_version: int
    has_optimizer: bool = False

    @property
    def name(self) -> str:
        """The file's name, or ``photo (bundled)`` for a model that ships with aestudio."""
        bundled = bundled_name(self.path)
        return f"{bundled} (bundled)" if bundled else Path(self.path).name

    @property
    def noise(self) -> str | None:
        """The training noise, or None when the task added none (``reconstruct``)."""
        return None if self.train.task == "reconstruct" else self.train.noise

    def one_line(self) -> str:
        """``name · denoiser (unet, width 16, depth 3) · trained on gaussian:25``."""
        config = self.model_config
        parts = [f"{k} {config[k]}" for k in _SHOWN_OPTIONS if k in config]
        arch = config.get("arch")
        details = ", ".join(([str(arch)] if arch else []) + parts)
        text = f"{self.name} · {self.architecture}"
        if details:
            text += f" ({details})"
        if self.noise:
            text += f" · trained on {self.noise}"
        return text

    def report_lines(self) -> list[str]:
        """The description as aligned lines (the command line's ``info``)."""
        images = f"{self.size}x{self.size}" if self.size else f"patches {self.patch}"
        noise = f" with noise {self.train.noise}" if self.noise else ""
        return [
            f"model        {self.architecture} ({self.kind})",
            f"options      {json.dumps(self.model_config)}",
            f"images       {self.channels} channel(s), {images}, {self.bit_depth}-bit source",
            f"data         {self.data.folder or '?'} "
            f"({_or_unknown(self.n_train)} training, {_or_unknown(self.n_val)} validation)",
            f"labels       {', '.join(self.labels) or '-'}",
            f"task         {self.train.task}{noise}",
            f"trained      {self.step} steps, {self.epoch} epochs, "
            f"{self.elapsed_s / 60:.1f} min ({self.reason or '?'})",
            f"val loss     {self.val_loss}",
            f"app version  {self.app_version} (schema {self.schema_version})",
            f"contains     {self.contents()}",
        ]

    def contents(self) -> str:
        """What the file holds, in words: what a person shares when sharing it."""
        parts = ["weights"]
        if self.has_optimizer:
            parts.append("optimizer state")
        parts.append("training settings and loss curves")
        folder = self.data.folder
        parts.append("the training folder's full path" if Path(folder).is_absolute()
                     else "the training folder's name")
        parts.append("image counts and label names; no images")
        return ", ".join(parts)


def _or_unknown(value: object) -> str:
    return "?" if value is None else str(value)


def summarise_meta(path: str | os.PathLike[str], meta: dict[str, Any]) -> ModelSummary:
    """A :class:`ModelSummary` of a description already read with :func:`read_model_meta`.

    Raises
    ------
    ModelFileError
        When the description lacks a part or holds values of the wrong kind.
    """
    try:
        data_meta = meta.get("data") or {}
        state = meta.get("training_state") or {}
        history = {k: [list(p) for p in v] for k, v in (state.get("history") or {}).items()}
        spe = state.get("steps_per_epoch")
        val_loss = state.get("val_loss")
        return ModelSummary(
            path=str(path), architecture=str(meta["architecture"]),
            kind=str(meta.get("kind", "")),
            model_config=dict(meta.get("model_config") or {}),
            data=from_dict(DataConfig, data_meta.get("config") or {}),
            train=from_dict(TrainConfig, meta.get("train") or {}),
            channels=data_meta.get("channels"), size=data_meta.get("size"),
            patch=data_meta.get("patch"), bit_depth=int(data_meta.get("bit_depth", 8)),
            labels=tuple(str(label) for label in data_meta.get("labels") or ()),
            n_train=data_meta.get("n_train"), n_val=data_meta.get("n_val"),
            step=int(state.get("step", 0)), epoch=int(state.get("epoch", 0)),
            elapsed_s=float(state.get("elapsed_s", 0.0)),
            steps_per_epoch=None if spe is None else int(spe),
            history=history, reason=str(state.get("reason", "")),
            val_loss=None if val_loss is None else float(val_loss),
            app_version=str(meta.get("app_version", "?")),
            schema_version=int(meta.get("schema_version", 0)),
            has_optimizer=bool(meta.get("optimizer")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        name = Path(path).name
        raise ModelFileError(f"{name}: unreadable training description ({exc})") from None


def describe_meta(path: str | os.PathLike[str], meta: dict[str, Any]) -> str:
    """:meth:`ModelSummary.one_line` of a description, never raising.

    For a model already loaded (its weights fit), whose training description may still be
    one :func:`summarise_meta` refuses: then the line names the file and the architecture.
    """
    try:
        return summarise_meta(path, meta).one_line()
    except ModelFileError:
        return f"{Path(path).name} · {meta.get('architecture', '?')}"


def read_model_summary(path: str | os.PathLike[str]) -> ModelSummary:
    """Read a model file's description (not its weights) as a :class:`ModelSummary`.

    Parameters
    ----------
    path
        An ``.aemodel`` file.

    Raises
    ------
    ModelFileError
        One line saying why the file cannot be used.
    """
    return summarise_meta(path, read_model_meta(path))
