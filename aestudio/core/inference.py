"""Using a trained model: encode, decode, reconstruct, interpolate, denoise at full size."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import torch

from aestudio.core.imagefolder import resize_square
from aestudio.core.imageio import from_float, to_float
from aestudio.core.interpolation import interpolate
from aestudio.core.models.base import Autoencoder, ImageModel
from aestudio.core.tiling import tiled_apply

DEFAULT_BATCH = 256


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def match_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Gray to RGB by repetition, RGB to gray by ITU-R 601 luma; (H, W, C) arrays."""
    have = image.shape[-1]
    if have == channels:
        return image
    if channels == 3:
        return np.repeat(image, 3, axis=-1)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gray = (image.astype(np.float32) @ weights)[..., None]
    return np.clip(np.rint(gray), 0, np.iinfo(image.dtype).max).astype(image.dtype)


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


def interpolate_images(model: Autoencoder, first: torch.Tensor, second: torch.Tensor,
                       steps: int, mode: str = "lerp") -> tuple[np.ndarray, np.ndarray]:
    """Frames between two images (C, S, S), decoded in one batch.

    Returns
    -------
    tuple
        The frames (steps, S, S, C) float32 and the codes (steps, D) they decode.
    """
    codes = encode(model, torch.stack([first, second]))
    path = interpolate(torch.from_numpy(codes[0]), torch.from_numpy(codes[1]), steps, mode)
    return decode(model, path), path.numpy()


def denoise_tensor(
    model: ImageModel,
    x: torch.Tensor,
    *,
    tile: int | None = None,
    overlap: int = 32,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> torch.Tensor:
    """Denoise a float image (C, H, W) at full resolution, tile by tile, on the model's device.

    A colour image given to a gray model is processed channel by channel; a gray image
    given to a colour model is repeated to RGB and averaged back.
    """
    model.eval()
    if model.channels == 1 and x.shape[0] == 3:
        planes = x[:, None]  # three gray images
    elif model.channels == 3 and x.shape[0] == 1:
        planes = x.repeat(3, 1, 1)[None]
    else:
        planes = x[None]
    kwargs = {"overlap": overlap, "device": model_device(model), "stop": stop}
    if tile is not None:
        kwargs["tile"] = tile
    outputs = []
    for k, plane in enumerate(planes):
        if progress is not None:
            def plane_progress(done: int, total: int, k: int = k) -> None:
                progress(k * total + done, total * len(planes))

            kwargs["progress"] = plane_progress
        result = tiled_apply(lambda t: model(t).float(), plane.contiguous(), **kwargs)
        outputs.append(result if isinstance(result, torch.Tensor) else result.image)
    y = torch.cat(outputs, dim=0) if len(planes) > 1 else outputs[0]
    if y.shape[0] != x.shape[0]:
        y = y.mean(0, keepdim=True)
    return y


def denoise_array(model: ImageModel, image: np.ndarray, **kwargs: object) -> np.ndarray:
    """Denoise an integer (H, W, C) image; the result keeps its shape and dtype (8 or 16 bit).

    Keyword arguments go to :func:`denoise_tensor`.
    """
    x = torch.from_numpy(to_float(image)).permute(2, 0, 1).contiguous()
    y = denoise_tensor(model, x, **kwargs)
    return from_float(y.permute(1, 2, 0).numpy(), image.dtype)
