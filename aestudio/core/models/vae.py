"""Convolutional beta-VAE; ``encode`` returns the posterior mean."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from aestudio.core.config import check_choice, check_fields, check_range, option
from aestudio.core.models.base import LOSSES, Autoencoder
from aestudio.core.models.conv_ae import ConvDecoder, ConvEncoder
from aestudio.core.models.neighbours import neighbour_loss
from aestudio.core.models.registry import register_model


@dataclass(frozen=True)
class VAEConfig:
    """Options of the variational autoencoder."""

    channels: int = option(1, "1 for gray images, 3 for colour.", choices=(1, 3))
    image_size: int = option(28, "Side of the square input images.", minimum=8, maximum=512)
    latent_dim: int = option(2, "Size of the code; the prior is a standard normal.",
                             minimum=1, maximum=4096)
    width: int = option(8, "Channels of the first convolution stage (doubling each stage).",
                        minimum=4, maximum=256)
    depth: int = option(2, "Down-sampling stages in the encoder.", minimum=1, maximum=6)
    hidden: int = option(512, "Width of the fully connected layer next to the code.",
                         minimum=8, maximum=4096)
    beta: float = option(1.0, "Weight of the KL term; above 1 gives a smoother, more "
                         "disentangled latent space, below 1 sharper images.",
                         minimum=0.0, maximum=100.0)
    loss: str = option("bce", "Reconstruction loss (the likelihood).", choices=LOSSES)
    sparsity: float = option(0.0, "Weight of an L1 penalty on the posterior mean.",
                             minimum=0.0, maximum=10.0)
    neighbours: float = option(
        2.0, "Weight of a neighbour-embedding term on the posterior means (parametric UMAP): "
        "images that look alike get nearby codes.", minimum=0.0, maximum=10.0)

    def __post_init__(self) -> None:
        check_fields(self)
        check_choice("loss", self.loss, LOSSES)
        check_range("beta", self.beta, 0.0)
        check_range("depth", self.depth, 1, 8)


@register_model("vae", VAEConfig, "autoencoder",
                "Variational autoencoder (beta-VAE): a smooth latent space to sample and walk.",
                rank=30)
class VariationalAutoencoder(Autoencoder):
    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        args = (config.channels, config.image_size, config.width, config.depth, config.hidden)
        self.encoder = ConvEncoder(*args, 2 * config.latent_dim)
        self.decoder = ConvDecoder(*args, config.latent_dim)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def training_loss(self, inputs, target, generator=None, mask=None):
        mu, logvar = self.posterior(inputs)
        eps = torch.randn(mu.shape, generator=generator, device=generator.device if generator
                          else mu.device, dtype=mu.dtype).to(mu.device)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = self.decoder(z)
        pixels = target[0].numel()
        if self.config.loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target.clamp(0, 1), reduction="sum")
        elif self.config.loss == "l1":
            recon = F.l1_loss(torch.sigmoid(logits), target, reduction="sum")
        else:
            recon = F.mse_loss(torch.sigmoid(logits), target, reduction="sum")
        recon = recon / (len(target) * pixels)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / (len(target) * pixels)
        # Both terms per pixel: the same optimum as the ELBO, on the scale of the other losses.
        loss = recon + self.config.beta * kl
        parts = {"reconstruction": recon.detach(), "kl": kl.detach()}
        if self.config.sparsity > 0:
            loss = loss + self.config.sparsity * mu.abs().mean()
        if self.neighbour_weight > 0 and self.training:
            # The trainer lays training batches out as anchors then their neighbours.
            embedding = neighbour_loss(mu)
            parts["neighbours"] = embedding.detach()
            loss = loss + self.neighbour_weight * embedding
        return loss, parts
