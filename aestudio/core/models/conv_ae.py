"""Convolutional autoencoder with a latent vector of any size (2 included)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aestudio.core.config import check_choice, check_fields, check_range, option
from aestudio.core.models.base import LOSSES, Autoencoder
from aestudio.core.models.registry import register_model


@dataclass(frozen=True)
class ConvAEConfig:
    """Options of the convolutional autoencoder."""

    channels: int = option(1, "1 for gray images, 3 for colour.", choices=(1, 3))
    image_size: int = option(28, "Side of the square input images.", minimum=8, maximum=512)
    latent_dim: int = option(2, "Size of the code; 2 gives a map that decodes exactly.",
                             minimum=1, maximum=4096)
    width: int = option(8, "Channels of the first convolution stage (doubling each stage).",
                        minimum=4, maximum=256)
    depth: int = option(2, "Down-sampling stages in the encoder.", minimum=1, maximum=6)
    hidden: int = option(512, "Width of the fully connected layer next to the code.",
                         minimum=8, maximum=4096)
    loss: str = option("bce", "Reconstruction loss.", choices=LOSSES)
    sparsity: float = option(0.0, "Weight of an L1 penalty on the code (sparse autoencoder).",
                             minimum=0.0, maximum=10.0)
    neighbours: float = option(
        2.0, "Weight of a neighbour-embedding term (parametric UMAP): images that look alike "
        "get nearby codes, so the map separates them; about 2 suits a 2-number code.",
        minimum=0.0, maximum=10.0)

    def __post_init__(self) -> None:
        check_fields(self)
        check_choice("loss", self.loss, LOSSES)
        check_range("latent_dim", self.latent_dim, 1, 4096)
        check_range("depth", self.depth, 1, 8)
        check_range("sparsity", self.sparsity, 0.0)
        check_range("neighbours", self.neighbours, 0.0)
        if self.image_size < 2**self.depth:
            raise ValueError(f"image_size {self.image_size} is too small for depth {self.depth}")


def stage_sizes(image_size: int, depth: int) -> list[int]:
    """Spatial sides after each stride-2 stage, input first."""
    sizes = [image_size]
    for _ in range(depth):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class ConvEncoder(nn.Module):
    """Stride-2 convolution stages, then a small MLP to ``out_features``."""

    def __init__(self, channels: int, image_size: int, width: int, depth: int, hidden: int,
                 out_features: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(depth):
            c_out = width * 2**i
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.SiLU(),
                       nn.Conv2d(c_out, c_out, 3, padding=1), nn.SiLU()]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        side = stage_sizes(image_size, depth)[-1]
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * side * side, hidden), nn.SiLU(),
                                  nn.Linear(hidden, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: resize-convolutions avoid checkerboard artefacts."""

    def __init__(self, channels: int, image_size: int, width: int, depth: int, hidden: int,
                 latent_dim: int) -> None:
        super().__init__()
        self.sizes = stage_sizes(image_size, depth)
        self.c_last = width * 2 ** (depth - 1)
        side = self.sizes[-1]
        self.head = nn.Sequential(nn.Linear(latent_dim, hidden), nn.SiLU(),
                                  nn.Linear(hidden, self.c_last * side * side), nn.SiLU())
        self.stages = nn.ModuleList()
        c_in = self.c_last
        for i in reversed(range(depth)):
            c_out = width * 2 ** (i - 1) if i > 0 else width
            self.stages.append(nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.SiLU(),
                                             nn.Conv2d(c_out, c_out, 3, padding=1), nn.SiLU()))
            c_in = c_out
        self.out = nn.Conv2d(c_in, channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        side = self.sizes[-1]
        x = self.head(z).view(-1, self.c_last, side, side)
        for stage, size in zip(self.stages, reversed(self.sizes[:-1]), strict=True):
            x = stage(F.interpolate(x, size=(size, size), mode="nearest"))
        return self.out(x)


@register_model("conv-ae", ConvAEConfig, "autoencoder",
                "Convolutional autoencoder: the all-rounder for images and latent maps.", rank=10)
class ConvAutoencoder(Autoencoder):
    def __init__(self, config: ConvAEConfig) -> None:
        super().__init__(config)
        args = (config.channels, config.image_size, config.width, config.depth, config.hidden)
        self.encoder = ConvEncoder(*args, config.latent_dim)
        self.decoder = ConvDecoder(*args, config.latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)
