"""Camera noise made from clean photos: the ``camera`` noise spec.

Real photos are not clean images plus white noise. A sensor counts photons (shot noise,
whose variance grows with the light) and adds read noise, in linear light, one colour per
pixel behind a Bayer filter; the camera then fills in the two missing colours from the
neighbours (demosaicing, which spreads the noise over neighbouring pixels), multiplies red
and blue by the white balance (more colour noise there), applies a tone curve (the noise
now depends on brightness in a different way), clips to black and white and, often, saves a
JPEG (which smears it into 8x8 blocks). :func:`camera_noise` runs that pipeline backwards
from a clean sRGB photo and forwards again with noise, after Brooks et al., "Unprocessing
Images for Learned Raw Denoising" (CVPR 2019) and CBDNet (Guo et al., CVPR 2019), with
JPEG as in BSRGAN's degradations (Zhang et al., ICCV 2021).

Each image in a batch gets its own camera: shot and read noise drawn as Brooks et al. draw
them (log-uniform shot noise, read noise on their fitted line), white-balance gains, the
Bayer pattern's phase and, for half of them, a JPEG quality from 60 to 95. ``strength``
scales the noise's standard deviation (1 is the range of the paper's cameras).
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F

# Brooks et al. (2019), section 3.2: log shot noise uniform, log read noise on a line.
LOG_SHOT_RANGE = (math.log(1e-4), math.log(1.2e-2))
READ_SLOPE, READ_OFFSET, READ_SPREAD = 2.18, 1.20, 0.26
RED_GAIN_RANGE = (1.9, 2.4)
BLUE_GAIN_RANGE = (1.5, 1.9)
JPEG_SHARE = 0.5
JPEG_QUALITY_RANGE = (60, 95)
_GREEN_KERNEL = torch.tensor([[0.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 0.0]]) / 4
_RED_BLUE_KERNEL = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 4


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """The sRGB transfer curve undone: linear light from sRGB values in [0, 1]."""
    x = x.clamp(0, 1)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """The sRGB transfer curve: sRGB values from linear light (clipped to [0, 1])."""
    x = x.clamp(0, 1)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp_min(1e-8) ** (1 / 2.4) - 0.055)


def bayer_masks(height: int, width: int, phase: tuple[int, int] = (0, 0),
                device: torch.device | None = None) -> torch.Tensor:
    """(3, H, W) masks of the red, green and blue sites of an RGGB mosaic shifted by
    ``phase`` (rows, columns)."""
    y = (torch.arange(height, device=device)[:, None] + phase[0]) % 2
    x = (torch.arange(width, device=device)[None, :] + phase[1]) % 2
    red = (y == 0) & (x == 0)
    blue = (y == 1) & (x == 1)
    return torch.stack([red, ~(red | blue), blue]).float()


def demosaic(mosaic: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Bilinear demosaicing: (N, 1, H, W) samples at the ``masks`` sites to (N, 3, H, W)."""
    planes = mosaic * masks[None]
    kernels = torch.stack([_RED_BLUE_KERNEL, _GREEN_KERNEL, _RED_BLUE_KERNEL])[:, None]
    padded = F.pad(planes, (1, 1, 1, 1), mode="reflect")
    return F.conv2d(padded, kernels.to(mosaic), groups=3)


def _jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """One (3, H, W) image in [0, 1] through an 8-bit JPEG of ``quality`` and back."""
    from PIL import Image

    array = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return torch.from_numpy(decoded.copy()).permute(2, 0, 1).to(image) / 255


def camera_noise(x: torch.Tensor, strength: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Photos as a camera would have taken them: mosaic, shot and read noise, demosaicing,
    white balance, tone curve, clipping and sometimes JPEG.

    Parameters
    ----------
    x : torch.Tensor
        Clean sRGB images (N, 3, H, W) or gray (N, 1, H, W) in [0, 1]. A gray image goes
        through the colour pipeline as gray RGB and comes back as the mean of the three.
    strength : float
        Scales the noise's standard deviation; 0 leaves only the processing (demosaicing
        of the clean mosaic, JPEG).
    generator : torch.Generator, optional
        Source of every random draw (drawn on its device).

    Returns
    -------
    torch.Tensor
        The noisy images, shape and dtype of ``x``, in [0, 1].
    """
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"camera noise needs (N, 1 or 3, H, W) images; got {tuple(x.shape)}")
    gray = x.shape[1] == 1
    rgb = x.float().expand(-1, 3, -1, -1) if gray else x.float()
    n, _, h, w = rgb.shape
    draw = generator.device if generator is not None else rgb.device

    def uniform(low: float, high: float, count: int = n) -> torch.Tensor:
        return (low + (high - low) * torch.rand(count, generator=generator, device=draw)
                ).to(rgb.device)

    log_shot = uniform(*LOG_SHOT_RANGE)
    log_read = (READ_SLOPE * log_shot + READ_OFFSET
                + READ_SPREAD * torch.randn(n, generator=generator, device=draw).to(rgb.device))
    shot = log_shot.exp() * strength**2
    read = log_read.exp() * strength**2
    gains = torch.stack([uniform(*RED_GAIN_RANGE), torch.ones(n, device=rgb.device),
                         uniform(*BLUE_GAIN_RANGE)], dim=1)[:, :, None, None]
    phases = torch.randint(2, (n, 2), generator=generator, device=draw).tolist()
    jpeg = torch.rand(n, generator=generator, device=draw) < JPEG_SHARE
    quality = torch.randint(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1, (n,),
                            generator=generator, device=draw)

    linear = srgb_to_linear(rgb) / gains  # what the sensor saw, before white balance
    out = []
    for i in range(n):
        masks = bayer_masks(h, w, tuple(phases[i]), rgb.device)
        mosaic = (linear[i:i + 1] * masks[None]).sum(dim=1, keepdim=True)
        variance = (shot[i] * mosaic + read[i]).clamp_min(0)
        noise = torch.randn(mosaic.shape, generator=generator, device=draw).to(rgb.device)
        noisy = mosaic + variance.sqrt() * noise
        image = linear_to_srgb(demosaic(noisy, masks) * gains[i:i + 1])[0]
        if bool(jpeg[i]):
            image = _jpeg(image, int(quality[i]))
        out.append(image)
    result = torch.stack(out)
    if gray:
        result = result.mean(dim=1, keepdim=True)
    return result.to(x.dtype)
