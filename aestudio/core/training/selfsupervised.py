"""Learning to denoise from noisy images alone (no clean references).

Two methods from the literature, both for noise that is independent from pixel to pixel
and zero-mean (sensor, film-grain-like and Gaussian noise):

``neighbor2neighbor`` (the default; Huang et al., "Neighbor2Neighbor: Self-Supervised
Denoising from Single Noisy Images", CVPR 2021). Every 2x2 cell of a noisy patch gives
two different, adjacent pixels picked at random; gathering them makes two half-size images
of the same scene with independent noise. The network learns to turn the first into the
second (a Noise2Noise pair, Lehtinen et al. 2018), and a regulariser ties that to what the
network does at full size: with ``f`` the network and ``g1``, ``g2`` the two samplers,

    loss = |f(g1(y)) - g2(y)|^2 + gamma * |f(g1(y)) - g2(y) - (g1(f(y)) - g2(f(y)))|^2,

where ``f(y)`` is computed without gradients. Every pixel of the half-size pair gives a
training signal, so it learns faster than blind-spot masking.

``blind-spot`` (Noise2Void, Krull et al. CVPR 2019; Noise2Self, Batson and Royer ICML
2019; with the N2V2 replacement of Hoeck et al. 2022): one pixel in 16, on a random 4x4
grid, is replaced by the mean of its eight neighbours, and the loss counts only those
pixels, compared with their noisy values. The network cannot see a pixel's own noise, so
the best it can do is predict the clean value.

At inference both use the ordinary denoiser on the whole image: ``model(noisy)``.

Both assume noise that is independent from pixel to pixel. Camera noise is not: demosaicing,
the camera's processing and JPEG spread it over neighbours, and a network trained this way
learns to keep it. A denoiser with ``spacing`` s > 1 therefore trains and denoises on the
s*s interleaved sub-images of every s-th pixel (pixel-shuffle down-sampling: Zhou et al.,
"When AWGN-based denoiser meets real noises", AAAI 2020; AP-BSN, Lee et al. CVPR 2022),
where pixels s apart carry independent noise; :mod:`aestudio.core.training.spacing`
measures the noise and chooses s.

The noise spec of the training configuration is **not** applied: the training images are
taken to be noisy already (that is the point of the task). Fresh synthetic noise on every
step would show the network many noisy versions of each image, which is a different and
easier problem; to try self-supervised training on clean images, write a noisy copy of
them once and train on that.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from aestudio.core.config import SELF_SUPERVISED_METHODS
from aestudio.core.data.noise import NoiseModel
from aestudio.core.models.base import ImageModel
from aestudio.core.models.denoiser import split_spaced

METHODS = SELF_SUPERVISED_METHODS

# The eight ordered pairs of 4-connected neighbours in a 2x2 cell; cell positions are
# numbered 0 (top left), 1 (top right), 2 (bottom left), 3 (bottom right).
_NEIGHBOUR_PAIRS = torch.tensor([[0, 1], [0, 2], [1, 3], [2, 3], [1, 0], [2, 0], [3, 1], [3, 2]])

# Blind-spot masking: one pixel per GRID x GRID block.
_GRID = 4


def neighbour_indices(batch: int, height: int, width: int,
                      generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two different, adjacent positions (0-3) in each 2x2 cell, drawn at random.

    Returns
    -------
    tuple of torch.Tensor
        Two (batch, height // 2, width // 2) integer tensors.
    """
    choice = torch.randint(len(_NEIGHBOUR_PAIRS), (batch, height // 2, width // 2),
                           generator=generator)
    first, second = _NEIGHBOUR_PAIRS[choice].unbind(-1)
    return first, second


def subsample(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Gather one pixel per 2x2 cell of ``x`` (N, C, H, W): a (N, C, H // 2, W // 2) image.

    ``index`` (N, H // 2, W // 2) says which pixel of each cell, as in
    :func:`neighbour_indices`; every channel takes the same pixel.
    """
    n, c, h, w = x.shape
    x = x[..., : h - h % 2, : w - w % 2]
    cells = F.pixel_unshuffle(x, 2).view(n, c, 4, h // 2, w // 2)
    index = index.to(x.device)[:, None, None].expand(n, c, 1, h // 2, w // 2)
    return cells.gather(2, index).squeeze(2)


def blind_spot_mask(shape: torch.Size | tuple[int, ...],
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """A (N, 1, H, W) float mask with one random pixel set in every 4x4 block."""
    n, _, h, w = shape
    gh, gw = -(-h // _GRID), -(-w // _GRID)
    offsets = torch.randint(_GRID * _GRID, (n, 1, gh, gw), generator=generator)
    one_hot = F.one_hot(offsets, _GRID * _GRID).permute(0, 1, 4, 2, 3).float()
    return F.pixel_shuffle(one_hot.reshape(n, _GRID * _GRID, gh, gw), _GRID)[..., :h, :w]


def neighbour_mean(x: torch.Tensor) -> torch.Tensor:
    """The mean of each pixel's eight neighbours (mirror padding at the borders)."""
    c = x.shape[1]
    kernel = torch.ones(c, 1, 3, 3, dtype=x.dtype, device=x.device) / 8
    kernel[:, :, 1, 1] = 0
    mode = "reflect" if min(x.shape[-2:]) > 1 else "replicate"
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode=mode), kernel, groups=c)


@dataclass(frozen=True)
class SelfSupervisedTask:
    """The ``self-supervised`` training task: learn to denoise from noisy images alone.

    Parameters
    ----------
    name
        The task name, ``"self-supervised"``.
    noise
        The configured noise spec; kept for the record but not applied (see the module
        documentation): the training images are the noisy data.
    method
        ``"neighbor2neighbor"`` (the default: it learns from every pixel) or
        ``"blind-spot"``.
    gamma
        Weight of the Neighbor2Neighbor regulariser; 2 is the paper's final value.
    """

    name: str
    noise: NoiseModel
    method: str = "neighbor2neighbor"
    gamma: float = 2.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")

    def inputs(self, clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The batch itself: in this task the training images are already noisy."""
        return clean

    def loss(self, model: ImageModel, batch: torch.Tensor, noisy: torch.Tensor,
             generator: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The self-supervised loss of one batch of noisy patches (``batch`` is ``noisy``)."""
        if model.kind != "denoiser":
            raise ValueError("self-supervised training needs a full-resolution denoiser, "
                             f"not {model.registry_name or type(model).__name__}")
        spacing = getattr(model, "spacing", 1)
        network = model.denoise_subimages if spacing > 1 else model
        if spacing > 1:  # whole cells of 2x2 sub-image pixels, then the sub-images
            h, w = noisy.shape[-2:]
            noisy = split_spaced(noisy[..., : h - h % (2 * spacing), : w - w % (2 * spacing)],
                                 spacing)
        if self.method == "blind-spot":
            return self._blind_spot_loss(model, network, noisy, generator)
        return self._neighbor2neighbor_loss(network, noisy, generator)

    def predict(self, model: ImageModel, noisy: torch.Tensor) -> torch.Tensor:
        """The denoised batch: the network on the whole noisy image."""
        return model(noisy)

    def _neighbor2neighbor_loss(self, model, noisy: torch.Tensor,
                                generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        n, _, h, w = noisy.shape
        if h < 2 or w < 2:
            raise ValueError(f"neighbor2neighbor needs patches of at least 2x2; got {h}x{w}")
        first, second = neighbour_indices(n, h, w, generator)
        sub1, sub2 = subsample(noisy, first), subsample(noisy, second)
        with torch.no_grad():
            full = model(noisy)
            expected = subsample(full, first) - subsample(full, second)
        diff = model(sub1) - sub2
        pair = diff.square().mean()
        regulariser = (diff - expected).square().mean()
        loss = pair + self.gamma * regulariser
        return loss, {"pair": pair.detach(), "regulariser": regulariser.detach()}

    def _blind_spot_loss(self, model: ImageModel, network, noisy: torch.Tensor,
                         generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        mask = blind_spot_mask(noisy.shape, generator).to(noisy.device, noisy.dtype)
        masked = noisy + mask * (neighbour_mean(noisy) - noisy)
        diff = network(masked) - noisy
        err = diff.abs() if getattr(model.config, "loss", "mse") == "l1" else diff.square()
        # Only the masked pixels count: the network never saw their noise.
        return (err * mask).sum() / mask.expand_as(err).sum().clamp_min(1), {}
