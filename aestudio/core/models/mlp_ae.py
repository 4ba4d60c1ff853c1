"""Multilayer (stacked) fully connected autoencoder."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from aestudio.core.config import check_choice, check_fields, check_range, option
from aestudio.core.errors import ConfigError
from aestudio.core.models.base import LOSSES, Autoencoder
from aestudio.core.models.registry import register_model


@dataclass(frozen=True)
class MLPAEConfig:
    """Options of the multilayer autoencoder."""

    channels: int = option(1, "1 for gray images, 3 for colour.", choices=(1, 3))
    image_size: int = option(28, "Side of the square input images.", minimum=4, maximum=256)
    latent_dim: int = option(2, "Size of the code; 2 gives a map that decodes exactly.",
                             minimum=1, maximum=1024)
    hidden: tuple[int, ...] = option((512, 256), "Widths of the hidden layers, input side first.",
                                     minimum=1, maximum=8192)
    loss: str = option("bce", "Reconstruction loss.", choices=LOSSES)
    sparsity: float = option(0.0, "Weight of an L1 penalty on the code (sparse autoencoder).",
                             minimum=0.0, maximum=10.0)
    neighbours: float = option(
        0.0, "Weight of a neighbour-embedding term (parametric UMAP): images that look alike "
        "get nearby codes, so the map separates them; about 2 suits a 2-number code.",
        minimum=0.0, maximum=10.0)

    def __post_init__(self) -> None:
        check_fields(self)
        check_choice("loss", self.loss, LOSSES)
        check_range("latent_dim", self.latent_dim, 1, 4096)
        check_range("sparsity", self.sparsity, 0.0)
        check_range("neighbours", self.neighbours, 0.0)
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError("hidden needs at least one positive width, e.g. [512, 256]")


@register_model("mlp-ae", MLPAEConfig, "autoencoder",
                "Multilayer autoencoder: fully connected layers, quick on small images.", rank=20)
class MLPAutoencoder(Autoencoder):
    def __init__(self, config: MLPAEConfig) -> None:
        super().__init__(config)
        pixels = config.channels * config.image_size**2
        widths = [pixels, *config.hidden]
        encoder: list[nn.Module] = [nn.Flatten()]
        for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
            encoder += [nn.Linear(w_in, w_out), nn.SiLU()]
        encoder.append(nn.Linear(widths[-1], config.latent_dim))
        self.encoder = nn.Sequential(*encoder)
        decoder: list[nn.Module] = [nn.Linear(config.latent_dim, widths[-1]), nn.SiLU()]
        back = widths[::-1]
        for w_in, w_out in zip(back[:-1], back[1:], strict=True):
            decoder.append(nn.Linear(w_in, w_out))
            if w_out != pixels:
                decoder.append(nn.SiLU())
        self.decoder = nn.Sequential(*decoder)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        c, s = self.config.channels, self.config.image_size
        return self.decoder(z).view(-1, c, s, s)
