"""Built-in models; importing this package registers them."""

from aestudio.core.models import conv_ae, denoiser, mlp_ae, vae  # noqa: F401  (registration)
from aestudio.core.models.registry import (
    ModelEntry,
    create_model,
    get_entry,
    list_models,
    make_config,
    register_model,
)

__all__ = ["ModelEntry", "create_model", "get_entry", "list_models", "make_config",
           "register_model"]
