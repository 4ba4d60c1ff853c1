"""Mixing a denoised image with its input, and what the compare view draws from the two.

Torch-free and written with operators numpy arrays and torch tensors share, so the one
formula serves the saved files (tensors, channels first) and the compare panes (arrays,
channels last) alike, and the studio can blend without loading the engine.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from aestudio.core.facts import LUMA_WEIGHTS

__all__ = ["mix", "quantize", "residual"]

Image = TypeVar("Image")


def _channel_index(channel: int, channel_axis: int) -> tuple:
    # Indexing both libraries understand: the plane `channel` along `channel_axis`.
    return (Ellipsis, channel) + (slice(None),) * (-1 - channel_axis)


def mix(noisy: Image, denoised: Image, *, amount: float = 1.0, luma: float = 1.0,
        chroma: float = 1.0, channel_axis: int = -1) -> Image:
    """Blend a denoised image with its input, luminance and colour noise separately.

    For RGB images the difference ``denoised - noisy`` is split into its luma part (ITU-R
    BT.601 Y, :data:`aestudio.core.facts.LUMA_WEIGHTS`) and its chroma part (the rest: the
    Cb/Cr change), and each is applied with its own strength: a blend in YCbCr space done
    without the conversion. ``chroma=1, luma=0`` removes colour noise and keeps the grain of
    a film scan. Gray images use ``luma``.

    Parameters
    ----------
    noisy, denoised : numpy.ndarray or torch.Tensor
        Float images of the same shape and type with 1 or 3 channels.
    amount : float
        Overall strength: 0 keeps the input, 1 applies ``luma`` and ``chroma`` fully.
    luma, chroma : float
        Strength of the luminance and the colour correction, each in [0, 1].
    channel_axis : int
        Where the channels are: -1 for (H, W, C) arrays, -3 for (C, H, W) tensors.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        A new image of the inputs' type (``denoised`` itself when all strengths are 1).

    Raises
    ------
    ValueError
        For a strength outside [0, 1] or images of different shapes.
    """
    for name, value in (("amount", amount), ("luma", luma), ("chroma", chroma)):
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1; got {value}")
    if noisy.shape != denoised.shape:
        raise ValueError(f"shapes differ: {tuple(noisy.shape)} and {tuple(denoised.shape)}")
    if channel_axis not in (-1, -3):
        raise ValueError(f"channel_axis must be -1 or -3; got {channel_axis}")
    channels = noisy.shape[channel_axis]
    if amount == 1.0 and luma == 1.0 and (chroma == 1.0 or channels == 1):
        return denoised
    diff = denoised - noisy
    if channels == 3 and luma != chroma:
        y = sum(w * diff[_channel_index(c, channel_axis)] for c, w in enumerate(LUMA_WEIGHTS))
        expand = (Ellipsis, None) + (slice(None),) * (-1 - channel_axis)
        diff *= chroma
        diff += (luma - chroma) * y[expand]
        del y
    else:
        diff *= luma
    diff *= amount
    diff += noisy
    return diff


def residual(noisy: np.ndarray, output: np.ndarray, gain: float) -> np.ndarray:
    """``0.5 + gain * (noisy - output)``, clipped to [0, 1]: grey where nothing was removed.

    Parameters
    ----------
    noisy, output : numpy.ndarray
        Float images of the same shape.
    gain : float
        Amplification, so faint structure the model removed or invented stands out.

    Returns
    -------
    numpy.ndarray
        float32, same shape.
    """
    diff = np.asarray(noisy, dtype=np.float32) - np.asarray(output, dtype=np.float32)
    return np.clip(0.5 + float(gain) * diff, 0.0, 1.0)


def quantize(array: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """Round a float image to the levels a saved file of ``bit_depth`` bits would hold.

    Parameters
    ----------
    array : numpy.ndarray
        Float image, nominally in [0, 1] (clipped first).
    bit_depth : int
        8 or 16.

    Returns
    -------
    numpy.ndarray
        Float values on the 8- or 16-bit grid.
    """
    levels = 65535.0 if bit_depth == 16 else 255.0
    return np.round(np.clip(array, 0.0, 1.0) * levels) / levels
