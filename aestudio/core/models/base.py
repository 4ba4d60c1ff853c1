"""What every model offers the trainer, the inference code and the UI."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from aestudio.core.models.neighbours import neighbour_loss

LOSSES = ("mse", "bce", "l1")


def reconstruction_loss(logits_or_output: torch.Tensor, target: torch.Tensor, loss: str,
                        logits: bool) -> torch.Tensor:
    """Mean per-pixel loss; ``logits`` says whether BCE gets logits (numerically safer)."""
    if loss == "bce":
        if logits:
            return F.binary_cross_entropy_with_logits(logits_or_output, target.clamp(0, 1))
        return F.binary_cross_entropy(logits_or_output.clamp(1e-6, 1 - 1e-6), target.clamp(0, 1))
    output = torch.sigmoid(logits_or_output) if logits else logits_or_output
    if loss == "l1":
        return F.l1_loss(output, target)
    return F.mse_loss(output, target)


class ImageModel(nn.Module):
    """Base of all models: images in and out as float tensors (N, C, H, W) in [0, 1]."""

    registry_name: ClassVar[str] = ""
    kind: ClassVar[str] = "autoencoder"

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @property
    def channels(self) -> int:
        return int(self.config.channels)

    @property
    def image_size(self) -> int | None:
        """The fixed input side, or None for fully convolutional models."""
        return getattr(self.config, "image_size", None)

    @property
    def latent_dim(self) -> int | None:
        return getattr(self.config, "latent_dim", None)

    @property
    def neighbour_weight(self) -> float:
        """Weight of the neighbour-embedding term; above 0 the trainer feeds neighbour pairs."""
        return float(getattr(self.config, "neighbours", 0.0))

    def training_loss(
        self, inputs: torch.Tensor, target: torch.Tensor, generator: torch.Generator | None = None,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss to minimise and its named parts (detached tensors)."""
        raise NotImplementedError


class Autoencoder(ImageModel):
    """An image autoencoder with a latent vector: ``encode``, ``decode``, ``forward``."""

    kind: ClassVar[str] = "autoencoder"

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, latent_dim); VAEs return the posterior mean."""
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, S, S) in [0, 1] for codes (N, latent_dim)."""
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def training_loss(self, inputs, target, generator=None, mask=None):
        z = self.encode(inputs)
        recon = reconstruction_loss(self.decode_logits(z), target, self.config.loss, logits=True)
        parts = {"reconstruction": recon.detach()}
        loss = recon
        if self.config.sparsity > 0:
            l1 = z.abs().mean()
            parts["sparsity"] = l1.detach()
            loss = loss + self.config.sparsity * l1
        if self.neighbour_weight > 0 and self.training:
            # The trainer lays training batches out as anchors then their neighbours.
            embedding = neighbour_loss(z)
            parts["neighbours"] = embedding.detach()
            loss = loss + self.neighbour_weight * embedding
        return loss, parts
