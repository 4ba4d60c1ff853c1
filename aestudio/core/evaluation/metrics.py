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
import torch.nn.functional as F

__all__ = ["psnr", "psnr_per_image", "ssim", "ssim_per_image"]

ImageLike = torch.Tensor | np.ndarray

# Wang et al. 2004 constants, as in scikit-image's structural_similarity with
# gaussian_weights=True, sigma=1.5, use_sample_covariance=False.
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


def _gaussian_window(
    size: int, sigma: float, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    coords = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    window = torch.exp(-0.5 * (coords / sigma) ** 2)
    return window / window.sum()


def ssim_per_image(output: ImageLike, reference: ImageLike, data_range: float = 1.0) -> np.ndarray:
    """Structural similarity of each image in a batch, averaged over its channels.

    Same definition as :func:`ssim`.

    Returns
    -------
    numpy.ndarray
        Shape (N,), float64, values in [-1, 1].
    """
    out, ref = _pair(output, reference, data_range)
    n, c, h, w = out.shape
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels, got {h}x{w}"
        )
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    g = _gaussian_window(SSIM_WINDOW, SSIM_SIGMA, out.dtype, out.device)
    maps = 5 * c
    # Separable Gaussian as two grouped convolutions, one group per (statistic, channel).
    g_rows = g.view(1, 1, -1, 1).expand(maps, 1, -1, 1)
    g_cols = g.view(1, 1, 1, -1).expand(maps, 1, 1, -1)

    scores = np.empty(n, dtype=np.float64)
    for i in range(n):  # one image at a time keeps memory at a few copies of one image
        x, y = out[i : i + 1], ref[i : i + 1]
        stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)
        # 'valid' filtering: the mean over the valid region equals scikit-image's mean over
        # its reflect-filtered map cropped by (window - 1) / 2 on every side.
        filtered = F.conv2d(F.conv2d(stack, g_rows, groups=maps), g_cols, groups=maps)
        mu_x, mu_y, e_xx, e_yy, e_xy = filtered.split(c, dim=1)
        var_x = e_xx - mu_x * mu_x
        var_y = e_yy - mu_y * mu_y
        cov_xy = e_xy - mu_x * mu_y
        numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
        denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
        # Equal-sized maps per channel, so the mean over all equals the mean of channel means.
        scores[i] = float((numerator / denominator).mean())
    return scores


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
