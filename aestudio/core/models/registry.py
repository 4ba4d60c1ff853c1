"""A small model registry: ``register_model``, ``create_model``, ``list_models``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aestudio.core.config import ConfigError, from_dict, to_dict

KINDS = ("autoencoder", "denoiser")
# The built-in models, in registration order.
BUILTIN_MODULES = ("conv_ae", "denoiser", "mlp_ae", "vae")


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one model."""

    name: str
    cls: type
    config_cls: type
    kind: str  # "autoencoder" (has a latent code) or "denoiser" (image to image)
    summary: str
    rank: int = 100  # position in lists shown to people


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str, config_cls: type, kind: str, summary: str, rank: int = 100
) -> Callable[[type], type]:
    """Class decorator adding a model to the registry under ``name``.

    Parameters
    ----------
    name
        The name used on the command line and in model files.
    config_cls
        The frozen config dataclass the model is built from.
    kind
        ``"autoencoder"`` (has a latent code) or ``"denoiser"`` (image to image).
    summary
        One sentence shown next to the name.
    rank
        Lists sort by rank, then name.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")

    def decorate(cls: type) -> type:
        _REGISTRY[name] = ModelEntry(name, cls, config_cls, kind, summary, rank)
        cls.registry_name = name
        return cls

    return decorate


def _ensure_loaded() -> None:
    # Importing a model's module registers it; done on first use so that importing the
    # package stays free of torch.
    for name in BUILTIN_MODULES:
        importlib.import_module(f"aestudio.core.models.{name}")


def list_models(kind: str | None = None) -> list[ModelEntry]:
    """Registered models in registration order, optionally of one kind."""
    _ensure_loaded()
    entries = [e for e in _REGISTRY.values() if kind is None or e.kind == kind]
    return sorted(entries, key=lambda e: (e.rank, e.name))


def get_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; :class:`ConfigError` names the choices otherwise."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def make_config(name: str, options: dict[str, Any] | None = None) -> Any:
    """Build the config dataclass of model ``name`` from options, refusing unknown keys."""
    return from_dict(get_entry(name).config_cls, dict(options or {}))


def create_model(name: str, config: Any = None, **options: Any) -> Any:
    """Instantiate model ``name`` from a config object or keyword options."""
    entry = get_entry(name)
    if config is None:
        config = make_config(name, options)
    elif options:
        config = make_config(name, {**to_dict(config), **options})
    from aestudio.core.models.memory import check_inference_memory  # torch: imported on use

    check_inference_memory(name, entry.cls, config)
    return entry.cls(config)
