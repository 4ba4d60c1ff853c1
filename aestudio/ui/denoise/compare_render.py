"""What the compare panes show, computed from the noisy and denoised pixels.

``blend`` mixes the input back in (the Amount slider, with separate luma and chroma
strengths so film grain can stay while colour noise goes); ``residual`` shows what the
denoiser removed, amplified and centred on grey, so invented or lost structure stands out.
"""

from __future__ import annotations

import numpy as np


def blend(noisy: np.ndarray, denoised: np.ndarray, amount: float,
          luma: float = 1.0, chroma: float = 1.0) -> np.ndarray:
    """Mix the input back into the denoised image, as the saved files are mixed.

    Parameters
    ----------
    noisy, denoised : numpy.ndarray
        (H, W, C) float32 images in [0, 1], C = 1 or 3.
    amount : float
        0 keeps the input, 1 the denoised image.
    luma, chroma : float
        Strengths of the brightness and the colour correction (colour images; gray images
        use ``luma``), as :func:`aestudio.core.denoise.apply.mix_denoised` applies them.

    Returns
    -------
    numpy.ndarray
        (H, W, C) float32.
    """
    # Imported here: the panes only blend once a model (and so torch) has been loaded.
    import torch

    from aestudio.core.denoise.apply import mix_denoised

    x = torch.from_numpy(np.ascontiguousarray(noisy, dtype=np.float32)).permute(2, 0, 1)
    y = torch.from_numpy(np.ascontiguousarray(denoised, dtype=np.float32)).permute(2, 0, 1)
    out = mix_denoised(x, y, amount=float(amount), luma=float(luma), chroma=float(chroma))
    return np.ascontiguousarray(out.permute(1, 2, 0).numpy())


def residual(noisy: np.ndarray, output: np.ndarray, gain: float) -> np.ndarray:
    """``0.5 + gain * (noisy - output)``, clipped to [0, 1]: grey where nothing was removed."""
    diff = np.asarray(noisy, dtype=np.float32) - np.asarray(output, dtype=np.float32)
    return np.clip(0.5 + float(gain) * diff, 0.0, 1.0)
