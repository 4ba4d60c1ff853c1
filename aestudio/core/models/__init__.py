"""Models and their registry.

The built-in models register themselves when the registry is first asked (``list_models``,
``get_entry``, ``create_model``), so that torch-free parts of this package (the model-file
summary) can be imported without loading torch.
"""

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
