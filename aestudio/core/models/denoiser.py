"""Fully convolutional denoisers for images of any size: a residual U-Net or DnCNN."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aestudio.core.config import check_choice, check_range, option
from aestudio.core.models.base import ImageModel
from aestudio.core.models.registry import register_model

ARCHITECTURES = ("unet", "dncnn")
DENOISER_LOSSES = ("mse", "l1")


@dataclass(frozen=True)
class DenoiserConfig:
    """Options of the full-resolution denoiser."""

    channels: int = option(1, "1 for gray images, 3 for colour.", choices=(1, 3))
    arch: str = option("unet", "unet: multi-scale, fast and strong on a CPU; dncnn: the classic "
                       "17-layer residual network.", choices=ARCHITECTURES)
    width: int = option(32, "Channels of the first level (U-Net) or of every layer (DnCNN).",
                        minimum=8, maximum=256)
    depth: int = option(3, "Down-sampling levels (U-Net) or convolution layers (DnCNN).",
                        minimum=1, maximum=30)
    residual: bool = option(True, "Predict the noise and subtract it (residual learning).")
    loss: str = option("mse", "Training loss.", choices=DENOISER_LOSSES)

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHITECTURES)
        check_choice("loss", self.loss, DENOISER_LOSSES)
        check_range("depth", self.depth, 1, 64)


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.1, inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.LeakyReLU(0.1, inplace=True))


class UNet(nn.Module):
    """A compact U-Net; inputs are reflect-padded to a multiple of ``2**depth``."""

    def __init__(self, channels: int, width: int, depth: int) -> None:
        super().__init__()
        self.depth = depth
        widths = [width * 2**i for i in range(depth + 1)]
        self.inc = _double_conv(channels, widths[0])
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i], widths[i + 1], 2, stride=2),
                          nn.LeakyReLU(0.1, inplace=True), _double_conv(widths[i + 1], widths[i + 1]))
            for i in range(depth)
        )
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(depth)))
        self.merges = nn.ModuleList(_double_conv(2 * widths[i], widths[i])
                                    for i in reversed(range(depth)))
        self.out = nn.Conv2d(widths[0], channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2**self.depth
        pad_h, pad_w = (-h) % m, (-w) % m
        if pad_h or pad_w:
            mode = "reflect" if h > pad_h and w > pad_w else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up, merge in zip(self.ups, self.merges, strict=True):
            y = merge(torch.cat([up(y), skips.pop()], dim=1))
        return self.out(y)[..., :h, :w]


class DnCNN(nn.Module):
    """Zhang et al. 2017: conv-ReLU, (conv-BN-ReLU) x (depth - 2), conv."""

    def __init__(self, channels: int, width: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(max(depth - 2, 0)):
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@register_model("denoiser", DenoiserConfig, "denoiser",
                "Full-resolution denoiser: any image size, trained on patches.", rank=40)
class Denoiser(ImageModel):
    kind = "denoiser"

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__(config)
        net = UNet if config.arch == "unet" else DnCNN
        self.net = net(config.channels, config.width, config.depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        return x - y if self.config.residual else y

    def training_loss(self, inputs, target, generator=None, mask=None):
        output = self(inputs)
        diff = output - target
        err = diff.abs() if self.config.loss == "l1" else diff.square()
        if mask is not None:  # blind-spot training: only masked pixels count
            loss = (err * mask).sum() / mask.expand_as(err).sum().clamp_min(1)
        else:
            loss = err.mean()
        return loss, {}
