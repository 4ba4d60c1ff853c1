"""The optimizer a run trains with (``TrainConfig.optimizer``)."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from aestudio.core.config import TrainConfig

#: SGD's momentum (Nesterov): the usual value, which needs no tuning per model.
SGD_MOMENTUM = 0.9


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer ``cfg.optimizer`` names, at the peak learning rate ``cfg.lr`` (the
    schedule scales it step by step).

    Parameters
    ----------
    params
        The model's parameters.
    cfg
        The run's training options (``optimizer``, ``lr``, ``weight_decay``).

    Returns
    -------
    torch.optim.Optimizer
        AdamW (decoupled weight decay), Adam (weight decay in the gradient) or SGD with
        Nesterov momentum.
    """
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=SGD_MOMENTUM, nesterov=True,
                               weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
