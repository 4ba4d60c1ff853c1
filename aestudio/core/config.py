"""Frozen configuration dataclasses for data, training and models.

Configs are serialised with :func:`dataclasses.asdict` into model files and read back
with :func:`from_dict`, which refuses unknown keys so that a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aestudio.core.errors import ConfigError

SCHEMA_VERSION = 3

#: The self-supervised methods (the engine's ``selfsupervised`` module implements them).
SELF_SUPERVISED_METHODS = ("neighbor2neighbor", "blind-spot")

TASKS = ("reconstruct", "denoise", "self-supervised")
DEVICES = ("auto", "cpu", "cuda", "mps")
SCHEDULES = ("cosine", "constant")
OPTIMIZERS = ("adamw", "adam", "sgd")

T = TypeVar("T")


def option(default: Any, help: str, **extra: Any) -> Any:
    """A dataclass field with a default and the help text shown as a tooltip and in ``--help``.

    Parameters
    ----------
    default
        The default value (tuples are used as immutable defaults).
    help
        One sentence describing the option for people.
    **extra
        UI hints: ``choices`` (with ``choice_labels``, a dict of the words the studio shows
        for some of them), ``minimum``, ``maximum``, ``step``.
    """
    return field(default=default, metadata={"help": help, **extra})


def _coerce(value: Any, annotation: Any, name: str) -> Any:
    """Convert JSON-ish values (lists, ints) to the annotated field type."""
    if isinstance(annotation, str):  # postponed annotations
        annotation = eval(annotation, {"typing": typing, "tuple": tuple})  # noqa: S307
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], name)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name} must be a list, got {value!r}")
        return tuple(_coerce(v, args[0], name) for v in value)
    if annotation is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if annotation is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if annotation in (int, float) and isinstance(value, bool):  # True is an int to Python
        raise ConfigError(f"{name} must be {annotation.__name__}, got {value!r}")
    if annotation in (int, float, str, bool) and not isinstance(value, annotation):
        raise ConfigError(f"{name} must be {annotation.__name__}, got {value!r}")
    return value


def _shown_key(key: object) -> str:
    """A key as typed when plain, else quoted with its escapes (never a line break)."""
    text = str(key)
    return text if text.isidentifier() else repr(text)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build the config dataclass ``cls`` from a dict, refusing unknown keys.

    Parameters
    ----------
    cls
        A dataclass type.
    data
        Values by field name; missing fields take their defaults.

    Raises
    ------
    ConfigError
        When a key is unknown or a value has the wrong type or range.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted((k for k in data if k not in fields), key=str)
    if unknown:
        raise ConfigError(
            f"unknown option(s) for {cls.__name__}: {', '.join(map(_shown_key, unknown))}; "
            f"known: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    values = {k: _coerce(v, hints[k], k) for k, v in data.items()}
    return cls(**values)  # its __post_init__ holds every field to its range (check_fields)


def _check_metadata_range(name: str, value: Any, metadata: Any) -> None:
    """Hold ``value`` to its field's ``minimum`` / ``maximum``, before anything is allocated.

    The ranges are the UI's limits too, so a model file or a command line can ask for no more
    than the studio's form allows (a width of a million would need terabytes).
    """
    choices = metadata.get("choices")
    if choices is not None and not isinstance(value, list | tuple) and value not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise ConfigError(f"{name} must be one of {shown}; got {value!r}")
    low, high = metadata.get("minimum"), metadata.get("maximum")
    if low is None and high is None:
        return
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if isinstance(item, int | float) and not isinstance(item, bool):
            check_range(name, item, low, high)


def check_fields(config: Any) -> None:
    """Hold every field of a config dataclass to its metadata's choices and range.

    Called by each config's ``__post_init__``, so that no way of building one (a model
    file, a command line, ``dataclasses.replace``) skips the checks.

    Raises
    ------
    ConfigError
        Naming the field, the allowed values and the value given.
    """
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        if isinstance(value, bool) and item.type in ("int", "float", int, float):
            raise ConfigError(f"{item.name} must be a number, got {value!r}")
        _check_metadata_range(item.name, value, item.metadata)


def to_dict(config: Any) -> dict[str, Any]:
    """Return a JSON-ready dict of a config dataclass (tuples become lists)."""
    return json_ready(dataclasses.asdict(config))


def json_ready(value: Any) -> Any:
    """Recursively turn tuples into lists and paths into strings for JSON."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def check_range(name: str, value: float, low: float | None = None, high: float | None = None) -> None:
    """Raise :class:`ConfigError` unless ``low <= value <= high`` (NaN and infinities never are)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number; got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{name} must be {bounds}; got {value}")


@dataclass(frozen=True)
class DataConfig:
    """Where the training images come from and how they are prepared."""

    folder: str = option("", "Folder of training images; labels are first-level subfolder names.")
    size: int = option(
        28, "Side of the square images an autoencoder sees (images are resized and centre-cropped).",
        minimum=4, maximum=512,
    )
    patch: int = option(
        64, "Side of the random patches a full-resolution denoiser trains on.", minimum=16,
        maximum=1024,
    )
    channels: int = option(0, "1 for gray, 3 for colour, 0 to follow the folder.", choices=(0, 1, 3))
    val_fraction: float = option(
        0.1, "Share of the images held out for validation.", minimum=0.0, maximum=0.5
    )
    max_pixels: int = option(200_000_000, "Images with more pixels are skipped (decompression bombs).",
                             minimum=1, maximum=2_000_000_000)

    def __post_init__(self) -> None:
        check_fields(self)
        check_range("size", self.size, 4, 4096)
        check_range("patch", self.patch, 8, 4096)
        check_range("val_fraction", self.val_fraction, 0.0, 0.9)
        if self.channels not in (0, 1, 3):
            raise ConfigError(f"channels must be 0, 1 or 3; got {self.channels}")


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained."""

    task: str = option(
        "reconstruct",
        "reconstruct: learn to reproduce the input; denoise: learn to remove synthetic noise "
        "from clean images; self-supervised: learn from noisy images alone.",
        choices=TASKS,
    )
    noise: str = option("gaussian:25", "Noise added to the input when the task is denoise.")
    method: str = option(
        "neighbor2neighbor",
        "How the self-supervised task learns from noisy images alone: neighbor2neighbor "
        "learns from every pixel; blind-spot (Noise2Void) hides pixels from the network.",
        choices=SELF_SUPERVISED_METHODS,
    )
    clip_noise: bool = option(
        True, "Clip noisy training inputs to black and white, as real photos are clipped; "
        "off keeps the unclipped noise of the classic denoising benchmarks.")
    epochs: int = option(10, "Passes over the training images.", minimum=1, maximum=100_000)
    max_minutes: float | None = option(
        None, "Stop after this many minutes (the learning rate schedule follows the budget).",
        minimum=0.0, maximum=1_000_000.0,
    )
    batch_size: int = option(64, "Images or patches per optimisation step.", minimum=1, maximum=4096)
    lr: float = option(1e-3, "Peak learning rate.", minimum=1e-6, maximum=1.0)
    optimizer: str = option(
        "adamw", "adamw: Adam with decoupled weight decay; adam: weight decay added to the "
        "gradient; sgd: stochastic gradient descent with Nesterov momentum 0.9 (wants a "
        "larger learning rate, e.g. 0.05).", choices=OPTIMIZERS)
    schedule: str = option(
        "cosine", "Learning rate schedule: short warm-up then cosine decay, or constant.",
        choices=SCHEDULES,
    )
    weight_decay: float = option(0.0, "Weight decay.", minimum=0.0, maximum=1.0)
    patches_per_epoch: int = option(
        0, "Patches drawn per epoch by a full-resolution denoiser (0: about the folder's pixels).",
        minimum=0, maximum=1_000_000_000,
    )
    augment: bool = option(True, "Random flips and 90-degree rotations of denoiser patches.")
    device: str = option("auto", "Where to train: auto picks CUDA, then Apple MPS, then CPU.",
                         choices=DEVICES)
    amp: bool = option(True, "Mixed precision (bfloat16 or float16 with float32 weights) on "
                       "CUDA and on CPUs with native bfloat16; about twice as fast.")
    seed: int = option(0, "Seed for weights, data order, noise and the validation split.",
                       minimum=0, maximum=2**31 - 1)
    checkpoint_minutes: float = option(5.0, "Save the model file this often while training.",
                                       minimum=0.0, maximum=1_000_000.0)
    sample_seconds: float = option(1.0, "How often sample outputs are reported.", minimum=0.0,
                                   maximum=1e9)
    snapshot_seconds: float = option(
        0.0, "How often a copy of the weights is reported while training (0: never); the "
        "studio's live latent map uses it.", minimum=0.0,
    )

    def __post_init__(self) -> None:
        check_fields(self)
        check_choice("task", self.task, TASKS)
        check_choice("device", self.device, DEVICES)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("epochs", self.epochs, 1)
        check_range("batch_size", self.batch_size, 1)
        check_range("lr", self.lr, 1e-8, 10.0)
        if self.max_minutes is not None:
            check_range("max_minutes", self.max_minutes, 0.0)
        check_range("snapshot_seconds", self.snapshot_seconds, 0.0)
