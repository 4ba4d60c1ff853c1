"""A different noise for every image: the ``mixed`` noise spec, for blind denoisers.

A denoiser trained on one noise learns that noise; one meant for whatever photo it is given
(the bundled ``photo`` model) must see every kind and strength while it learns. Each image
of a batch draws one of three kinds with equal chances:

- white Gaussian noise, sigma uniform from 1 to ``max_sigma`` (the classic benchmarks);
- Poisson-Gaussian noise, shot noise whose standard deviation at mid-gray is uniform up to
  ``max_sigma`` plus a little read noise (a sensor's noise, growing with the light);
- a camera's noise (:mod:`aestudio.core.data.camera_noise`), strength uniform from 0.25 to
  2.5: demosaicing spreads it over neighbours, the tone curve and JPEG shape it.

The mix follows DnCNN's blind training (Zhang et al. 2017, one network over sigma 0-55)
and BSRGAN's random degradations (Zhang et al. 2021).
"""

from __future__ import annotations

import torch

from aestudio.core.data.camera_noise import camera_noise

CAMERA_STRENGTHS = (0.25, 2.5)
MIN_SIGMA = 1.0
READ_SHARE = 0.2  # the Poisson-Gaussian read noise, as a share of the level


def mixed_noise(x: torch.Tensor, max_sigma: float = 50.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Noisy copies of (N, C, H, W) images in [0, 1], each with its own noise (not clipped).

    Parameters
    ----------
    x : torch.Tensor
        Clean images (N, 1 or 3, H, W) in [0, 1].
    max_sigma : float
        The strongest noise, as a standard deviation on the 0-255 scale.
    generator : torch.Generator, optional
        Source of every random draw (drawn on its device).

    Returns
    -------
    torch.Tensor
        The noisy images, shape and dtype of ``x``.
    """
    n = x.shape[0]
    draw = generator.device if generator is not None else x.device
    kinds = torch.randint(3, (n,), generator=generator, device=draw).tolist()
    levels = torch.rand(n, generator=generator, device=draw).tolist()
    high = max(max_sigma, MIN_SIGMA)
    out = []
    for i in range(n):
        image = x[i:i + 1].float()
        sigma = (MIN_SIGMA + (high - MIN_SIGMA) * levels[i]) / 255.0
        if kinds[i] == 2:
            low, top = CAMERA_STRENGTHS
            strength = low + (top - low) * levels[i] * min(1.0, high / 50.0)
            out.append(camera_noise(image, strength, generator))
            continue
        noise = torch.randn(image.shape, generator=generator, device=draw).to(image.device)
        if kinds[i] == 0:
            out.append(image + sigma * noise)
        else:
            # Shot noise: variance a * x with a chosen so that mid-gray has std sigma.
            shot = 2.0 * (sigma * (1 - READ_SHARE)) ** 2
            std = (shot * image.clamp_min(0) + (sigma * READ_SHARE) ** 2).sqrt()
            out.append(image + std * noise)
    return torch.cat(out).to(x.dtype)
