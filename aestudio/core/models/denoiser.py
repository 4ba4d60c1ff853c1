"""Fully convolutional denoisers for images of any size: a residual U-Net or DnCNN.

The defaults (U-Net, width 16, depth 3, 0.6 million weights) are sized for training in
minutes on a CPU; wider models pay off with longer training or a GPU (the comparison is in
``docs/denoise.md``, "Measured choices").

Both networks can also work on 2x2 (or 4x4) pixel blocks instead of single pixels
(``unshuffle``): the image is rearranged into ``unshuffle**2`` times as many channels at
``1/unshuffle`` of the resolution (as FFDNet, Zhang et al. 2018, does), which makes every
convolution 4 (or 16) times cheaper per pixel.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aestudio.core.config import check_choice, check_fields, check_range, option
from aestudio.core.models.base import ImageModel
from aestudio.core.models.registry import register_model

ARCHITECTURES = ("unet", "dncnn")
DENOISER_LOSSES = ("mse", "l1")
UNSHUFFLE_FACTORS = (1, 2, 4)
SPACINGS = (0, 1, 2, 3, 4)  # 0: chosen from the noise when training starts
# Rows: brightness, red against blue, green against magenta. Orthonormal, so white noise of
# strength sigma in RGB stays white with the same sigma on every plane (CBM3D's opponent
# colour space, up to scale).
_OPPONENT = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [1.0, -2.0, 1.0]])
_OPPONENT = _OPPONENT / _OPPONENT.norm(dim=1, keepdim=True)
# Fixed offsets that centre each plane's range on 0.5, as a gray image is (fixed, not per
# image, so that tiles see exactly what the whole image sees).
_PLANE_SHIFT = 0.5 - _OPPONENT.sum(dim=1) / 2
# The last layer's initial weights are scaled by this: the network starts near the identity.
INITIAL_OUTPUT_SCALE = 0.01
_capture = threading.local()  # .active: a graph is being captured (see graph_capture)


@dataclass(frozen=True)
class DenoiserConfig:
    """Options of the full-resolution denoiser."""

    channels: int = option(1, "1 for gray images, 3 for colour.", choices=(1, 3))
    arch: str = option("unet", "unet: multi-scale, fast and strong on a CPU; dncnn: the classic "
                       "residual network of plain 3x3 convolutions.", choices=ARCHITECTURES)
    width: int = option(16, "Channels of the first level (U-Net) or of every layer (DnCNN).",
                        minimum=8, maximum=256)
    depth: int = option(3, "Down-sampling levels (U-Net) or convolution layers (DnCNN).",
                        minimum=1, maximum=30)
    unshuffle: int = option(1, "Work on blocks of this many pixels squared (1: single pixels; "
                            "2: four times less compute per pixel).", choices=UNSHUFFLE_FACTORS)
    planes: bool = option(False, "Colour images: one gray network denoises the brightness and "
                          "two colour-difference planes in turn (an opponent colour space, as "
                          "CBM3D uses) instead of red, green and blue at once; learns faster.")
    spacing: int = option(0, "Denoise the interleaved sub-images of every Nth pixel "
                          "(pixel-shuffle down-sampling), so that noise spread over neighbouring "
                          "pixels by demosaicing or JPEG looks independent. 0: chosen from the "
                          "noise measured on the training images (self-supervised training; "
                          "otherwise 1); 1: off.", choices=SPACINGS,
                          choice_labels={0: "auto (from the noise)", 1: "1 (off)"})
    residual: bool = option(True, "Predict the noise and subtract it (residual learning).")
    loss: str = option("mse", "Training loss.", choices=DENOISER_LOSSES)

    def __post_init__(self) -> None:
        check_fields(self)
        check_choice("arch", self.arch, ARCHITECTURES)
        check_choice("loss", self.loss, DENOISER_LOSSES)
        check_range("depth", self.depth, 1, 64)
        if self.unshuffle not in UNSHUFFLE_FACTORS:
            check_choice("unshuffle", str(self.unshuffle), tuple(map(str, UNSHUFFLE_FACTORS)))
        if self.spacing not in SPACINGS:
            check_choice("spacing", str(self.spacing), tuple(map(str, SPACINGS)))


def split_spaced(x: torch.Tensor, spacing: int) -> torch.Tensor:
    """The ``spacing**2`` interleaved sub-images of (N, C, H, W) images, as a batch
    (N * spacing**2, C, H / spacing, W / spacing); H and W must be multiples of spacing."""
    if spacing == 1:
        return x
    n, c, h, w = x.shape
    s = spacing
    cells = F.pixel_unshuffle(x, s).reshape(n, c, s * s, h // s, w // s)
    return cells.transpose(1, 2).reshape(n * s * s, c, h // s, w // s)


def merge_spaced(x: torch.Tensor, spacing: int) -> torch.Tensor:
    """The inverse of :func:`split_spaced`."""
    if spacing == 1:
        return x
    s = spacing
    m, c, h, w = x.shape
    n = m // (s * s)
    cells = x.reshape(n, s * s, c, h, w).transpose(1, 2).reshape(n, c * s * s, h, w)
    return F.pixel_shuffle(cells, s)


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.1, inplace=True),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.LeakyReLU(0.1, inplace=True))


@contextmanager
def graph_capture() -> Iterator[None]:
    """While inside, this thread's denoisers pad with :func:`pad_to_multiple_in_graph`:
    for exporters (ONNX) that record one example's forward pass as a graph for every size."""
    before = getattr(_capture, "active", False)
    _capture.active = True
    try:
        yield
    finally:
        _capture.active = before


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Extend ``x`` at the bottom and right to a multiple of ``multiple`` (mirror padding)."""
    if getattr(_capture, "active", False):
        # A captured graph must pad by the size it is given, not by the example's.
        return pad_to_multiple_in_graph(x, multiple)
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h or pad_w:
        mode = "reflect" if h > pad_h and w > pad_w else "replicate"
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return x


def _padding_indices(size: torch.Tensor, padded: int | torch.SymInt,
                     reflect: torch.Tensor) -> torch.Tensor:
    i = torch.arange(padded, device=size.device)
    mirrored = torch.where(i < size, i, 2 * (size - 1) - i).clamp_min(0)
    return torch.where(reflect, mirrored, i.clamp_max(size - 1))


def pad_to_multiple_in_graph(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """:func:`pad_to_multiple` written as index gathers, for exported graphs (ONNX).

    The same pixels as :func:`pad_to_multiple`, but the padding and the choice between
    mirroring and repeating the edge are tensor operations on the input's size instead of
    Python branches, so that a graph captured from one example image pads every size right.

    Parameters
    ----------
    x : torch.Tensor
        Images ``(..., H, W)``.
    multiple : int
        The grid to pad to.

    Returns
    -------
    torch.Tensor
        ``x`` extended at the bottom and right to multiples of ``multiple``.
    """
    h, w = x.shape[-2:]
    # Written as a product so that the exporter can prove later reshapes divide evenly.
    padded_h = (h + multiple - 1) // multiple * multiple
    padded_w = (w + multiple - 1) // multiple * multiple
    # The sizes as tensors (the last index plus one), so that comparisons stay in the graph.
    size_h = torch.arange(h, device=x.device)[-1] + 1
    size_w = torch.arange(w, device=x.device)[-1] + 1
    reflect = (size_h > padded_h - size_h) & (size_w > padded_w - size_w)
    x = x.index_select(-2, _padding_indices(size_h, padded_h, reflect))
    return x.index_select(-1, _padding_indices(size_w, padded_w, reflect))


class UNet(nn.Module):
    """A compact U-Net; inputs are padded to a multiple of ``2**depth``."""

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
        x = pad_to_multiple(x, 2**self.depth)
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
        self.by_planes = config.planes and config.channels == 3
        inner = (1 if self.by_planes else config.channels) * config.unshuffle**2
        if config.arch == "unet":
            self.net: nn.Module = UNet(inner, config.width, config.depth)
        else:
            self.net = DnCNN(inner, config.width, config.depth)
        if config.residual:
            # Start close to the identity: a residual network whose noise estimate starts
            # large spends hundreds of steps unlearning it before it learns anything.
            last = self.net.out if config.arch == "unet" else self.net.body[-1]
            with torch.no_grad():
                last.weight.mul_(INITIAL_OUTPUT_SCALE)
                last.bias.zero_()

    @property
    def spacing(self) -> int:
        """How far apart the pixels of one training sub-image are (1: whole images)."""
        return max(1, self.config.spacing)

    @property
    def denoise_spacing(self) -> int:
        """The spacing of the sub-images it denoises: one less than :attr:`spacing` from 3
        up. Sub-images of every 3rd pixel teach it independent noise; denoising those of
        every 2nd keeps more detail and scored higher on real camera noise (as AP-BSN,
        Lee et al. 2022, trains at 5 and denoises at 2; docs/denoise.md has the figures)."""
        s = self.spacing
        return s - 1 if s >= 3 else s

    @property
    def size_multiple(self) -> int:
        """The grid the network's down-sampling works on: tiles aligned to it (and a multiple
        of it in size) give the same pixels as the whole image."""
        levels = self.config.depth if self.config.arch == "unet" else 0
        return self.config.unshuffle * 2**levels * self.denoise_spacing

    @property
    def reach(self) -> int:
        """How far (pixels) an output pixel can see in each direction: its receptive
        radius, plus one grid cell for where a pixel falls within the down-sampling grid."""
        config = self.config
        if config.arch == "dncnn":
            return config.depth * config.unshuffle * self.denoise_spacing + self.size_multiple
        reach = 2  # the first two 3x3 convolutions
        for level in range(1, config.depth + 1):
            reach += 2 ** (level - 1) + 2 * 2**level  # 2x2 stride-2 down, two 3x3 convs
        for level in range(config.depth):
            reach += 2 * 2**level  # the two convolutions after each skip merge
        return reach * config.unshuffle * self.denoise_spacing + self.size_multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.denoise_spacing
        if s == 1:
            return self.denoise_subimages(x)
        h, w = x.shape[-2:]
        padded = pad_to_multiple(x, s)
        y = merge_spaced(self.denoise_subimages(split_spaced(padded, s)), s)
        return y[..., :h, :w]

    def denoise_subimages(self, x: torch.Tensor) -> torch.Tensor:
        """The network on images as it sees them: whole images, or each interleaved
        sub-image (:func:`split_spaced`) on its own."""
        if not self.by_planes:
            return self._denoise(x)
        n, _, h, w = x.shape
        matrix, shift = _OPPONENT.to(x), _PLANE_SHIFT.to(x)[:, None, None]
        planes = torch.einsum("oc,nchw->nohw", matrix, x) + shift
        y = self._denoise(planes.reshape(n * 3, 1, h, w)).reshape(n, 3, h, w) - shift
        return torch.einsum("oc,nohw->nchw", matrix, y)  # the inverse is the transpose

    def _denoise(self, x: torch.Tensor) -> torch.Tensor:
        r = self.config.unshuffle
        h, w = x.shape[-2:]
        # Pad once, at full resolution, to the whole down-sampling grid: tiles cut on that
        # grid then see exactly the pixels the whole image sees (see inference.py).
        padded = pad_to_multiple(x, self.size_multiple)
        if r == 1:
            y = self.net(padded)
        else:
            y = F.pixel_shuffle(self.net(F.pixel_unshuffle(padded, r)), r)
        y = y[..., :h, :w]
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
