"""Using a trained model on small images: encode, decode, reconstruct."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from aestudio.core.data.resize import match_channels, resize_square
from aestudio.core.io.convert import to_float
from aestudio.core.models.base import Autoencoder, ImageModel

DEFAULT_BATCH = 256



def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def to_model_tensor(images: Sequence[np.ndarray], channels: int, size: int | None) -> torch.Tensor:
    """Integer (H, W, C) images as a float batch (N, C, S, S) in [0, 1].

    Images are resized so the shorter side is ``size`` and centre-cropped, with the
    same function the training cache uses.
    """
    batch = []
    for image in images:
        image = match_channels(image, channels)
        if size is not None:
            image = resize_square(image, size)
        batch.append(torch.from_numpy(to_float(image)).permute(2, 0, 1))
    return torch.stack(batch)


@torch.inference_mode()
def encode(model: Autoencoder, images: torch.Tensor, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Latent codes (N, D) of a float batch (N, C, S, S); VAEs give posterior means."""
    device = model_device(model)
    model.eval()
    codes = [model.encode(images[i:i + batch_size].to(device)).float().cpu()
             for i in range(0, len(images), batch_size)]
    return torch.cat(codes).numpy()


@torch.inference_mode()
def decode(model: Autoencoder, codes: np.ndarray | torch.Tensor,
           batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Images (N, S, S, C) float32 in [0, 1] for codes (N, D)."""
    device = model_device(model)
    model.eval()
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32))
    if z.ndim == 1:
        z = z[None]
    if z.shape[1] != model.latent_dim:
        raise ValueError(f"the model's code has {model.latent_dim} numbers; got {z.shape[1]}")
    out = [model.decode(z[i:i + batch_size].to(device)).float().cpu()
           for i in range(0, len(z), batch_size)]
    return torch.cat(out).permute(0, 2, 3, 1).numpy()


@torch.inference_mode()
def reconstruct(model: ImageModel, images: torch.Tensor,
                batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """The model's output (N, S, S, C) float32 in [0, 1] for a float batch (N, C, S, S)."""
    device = model_device(model)
    model.eval()
    out = [model(images[i:i + batch_size].to(device)).float().clamp(0, 1).cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out).permute(0, 2, 3, 1).numpy()


