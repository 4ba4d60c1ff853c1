"""Image quality metrics: PSNR and SSIM.

Both accept torch tensors or numpy arrays in these layouts:

- 2-D: (H, W), one single-channel image;
- 3-D numpy array: (H, W, C), one image as image readers return it;
- 3-D torch tensor: (C, H, W), one image as torch code holds it;
- 4-D (either type): (N, C, H, W), a batch.

Values are compared as given, in float64, against ``data_range`` (1.0 for [0, 1] floats,
255 for 8-bit values). Following the denoising convention, scores on the 8-bit scale are
obtained by the caller rounding both images to 8 bits first; nothing is rounded here.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import structural_similarity_index_measure

from aestudio.core.denoise.mix import quantize as _quantize_array

__all__ = ["psnr", "psnr_per_image", "quality_scores", "quantize", "ssim", "ssim_per_image"]

ImageLike = torch.Tensor | np.ndarray

# Wang et al. 2004 settings, as in scikit-image's structural_similarity with
# gaussian_weights=True, sigma=1.5, use_sample_covariance=False (torchmetrics' Gaussian
# window for sigma 1.5 is 11 pixels wide).
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _to_nchw(image: ImageLike, name: str) -> torch.Tensor:
    if isinstance(image, np.ndarray):
        # Convert in numpy first: torch lacks arithmetic on some numpy dtypes (uint16), and
        # float64 also keeps uint8 differences from wrapping around.
        t = torch.from_numpy(np.asarray(image, dtype=np.float64))
        if t.dim() == 3:
            t = t.permute(2, 0, 1)  # HWC -> CHW
    elif isinstance(image, torch.Tensor):
        t = image.detach().to(torch.float64)
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy.ndarray, got {type(image).__name__}"
        )
    if t.dim() == 2:
        return t[None, None]
    if t.dim() == 3:
        return t[None]
    if t.dim() == 4:
        return t
    raise ValueError(f"{name} must have 2, 3 or 4 dimensions, got shape {tuple(image.shape)}")


def _pair(output: ImageLike, reference: ImageLike, data_range: float) -> tuple[torch.Tensor, ...]:
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    out = _to_nchw(output, "output")
    ref = _to_nchw(reference, "reference").to(out.device)
    if out.shape != ref.shape:
        raise ValueError(
            f"output and reference differ in shape: {tuple(out.shape)} vs {tuple(ref.shape)} "
            "(as N, C, H, W)"
        )
    if out.numel() == 0:
        raise ValueError("cannot score empty images")
    return out, ref


def psnr_per_image(output: ImageLike, reference: ImageLike, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio of each image in a batch, in dB.

    Parameters
    ----------
    output, reference : torch.Tensor or numpy.ndarray
        Images of the same shape and layout (see the module docstring).
    data_range : float, default 1.0
        The distance from black to white: 1.0 for [0, 1] floats, 255 for 8-bit values.

    Returns
    -------
    numpy.ndarray
        Shape (N,), float64; ``inf`` where an image equals its reference exactly.
    """
    out, ref = _pair(output, reference, data_range)
    mse = (out - ref).square().mean(dim=(1, 2, 3))
    # mse == 0 gives +inf, the usual convention for identical images.
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(float(data_range) ** 2 / mse.cpu().numpy())
    return values


def psnr(output: ImageLike, reference: ImageLike, data_range: float = 1.0) -> float:
    """Mean over the batch of per-image PSNR, in dB.

    Parameters
    ----------
    output, reference : torch.Tensor or numpy.ndarray
        Images of the same shape and layout (see the module docstring).
    data_range : float, default 1.0
        The distance from black to white: 1.0 for [0, 1] floats, 255 for 8-bit values.

    Returns
    -------
    float
        ``inf`` if any image equals its reference exactly.
    """
    return float(np.mean(psnr_per_image(output, reference, data_range)))


def ssim_per_image(output: ImageLike, reference: ImageLike, data_range: float = 1.0) -> np.ndarray:
    """Structural similarity of each image in a batch, averaged over its channels.

    Same definition as :func:`ssim`.

    Returns
    -------
    numpy.ndarray
        Shape (N,), float64, values in [-1, 1].
    """
    out, ref = _pair(output, reference, data_range)
    h, w = out.shape[-2:]
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {h}x{w}"
        )
    # torchmetrics pads by reflection and averages over the whole map; Wang et al. (and
    # scikit-image) average over the region where the window fits inside the image, so take
    # the full map and crop the padding off.
    _, full = structural_similarity_index_measure(
        out, ref, gaussian_kernel=True, sigma=SSIM_SIGMA, kernel_size=SSIM_WINDOW,
        reduction="none", data_range=float(data_range), k1=SSIM_K1, k2=SSIM_K2,
        return_full_image=True)
    pad = (SSIM_WINDOW - 1) // 2
    scores = full[..., pad:-pad, pad:-pad].mean(dim=(1, 2, 3))
    return scores.cpu().numpy().astype(np.float64)


def ssim(output: ImageLike, reference: ImageLike, data_range: float = 1.0) -> float:
    """Structural similarity index (Wang et al. 2004), mean over channels and batch.

    An 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, population (not sample)
    covariances, scored over the region where the window fits inside the image. This matches
    scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=...)``, channel by channel.

    Parameters
    ----------
    output, reference : torch.Tensor or numpy.ndarray
        Images of the same shape and layout (see the module docstring), each at least 11x11.
    data_range : float, default 1.0
        The distance from black to white: 1.0 for [0, 1] floats, 255 for 8-bit values.

    Returns
    -------
    float
        In [-1, 1]; 1.0 for identical images.
    """
    return float(np.mean(ssim_per_image(output, reference, data_range)))


def quantize(image: ImageLike, bit_depth: int = 8) -> ImageLike:
    """Round to the integer levels a saved image would have (the benchmark convention).

    Parameters
    ----------
    image : torch.Tensor or numpy.ndarray
        Float image, nominally in [0, 1] (clipped first).
    bit_depth : int
        8 or 16.

    Returns
    -------
    torch.Tensor or numpy.ndarray
        Of the input's type.
    """
    if isinstance(image, torch.Tensor):
        levels = 65535.0 if bit_depth == 16 else 255.0
        return torch.round(image.clamp(0, 1) * levels) / levels
    return _quantize_array(image, bit_depth)


def quality_scores(output: np.ndarray, noisy: np.ndarray, reference: np.ndarray,
                   bit_depth: int = 8) -> dict[str, float]:
    """PSNR (dB) and SSIM of an output and of the noisy input against a clean reference.

    Parameters
    ----------
    output, noisy, reference : numpy.ndarray
        (H, W, C) float images in [0, 1] (``noisy`` may overshoot: synthetic noise is not
        clipped; it is clipped for SSIM).
    bit_depth : int
        The output is rounded to this depth first, as a saved file would be.

    Returns
    -------
    dict
        ``psnr`` and ``noisy_psnr``; ``ssim`` and ``noisy_ssim`` too when the image holds
        SSIM's 11 x 11 window.
    """
    out = quantize(output, bit_depth)
    scores = {"psnr": psnr(out, reference), "noisy_psnr": psnr(noisy, reference)}
    if min(reference.shape[:2]) >= SSIM_WINDOW:
        scores["ssim"] = ssim(out, reference)
        scores["noisy_ssim"] = ssim(np.clip(noisy, 0, 1), reference)
    return scores
