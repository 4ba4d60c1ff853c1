"""Measuring a model on a folder: mean PSNR and SSIM of its output (and of the noisy input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from aestudio.core.data.decode import decode_folder
from aestudio.core.data.noise import parse_noise
from aestudio.core.data.scan import scan_folder
from aestudio.core.denoise.apply import denoise_tensor
from aestudio.core.evaluation.metrics import psnr, quantize, ssim
from aestudio.core.models.inference import reconstruct
from aestudio.core.models.modelfile import LoadedModel

__all__ = ["evaluate_folder", "quantize"]


def _seeded(seed: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + index)


def evaluate_folder(loaded: LoadedModel, folder: Path, *, noise: str | None = None,
                    seed: int = 0, limit: int | None = None,
                    clip: bool | None = None) -> dict[str, Any]:
    """Mean PSNR (dB) and SSIM of the model's output against the clean images of a folder.

    Parameters
    ----------
    loaded
        The model to evaluate.
    folder
        Clean images (autoencoders see them at their training size, denoisers at full size).
    noise
        Noise added before the model sees an image; default: the training noise when the
        model was trained to denoise, none otherwise. Noise is seeded per image.
    seed
        Seed of the noise, so figures repeat.
    limit
        Evaluate only the first images.
    clip
        Clip the noisy images to [0, 1]; default: as the model was trained (clipped, unless
        it was trained with ``clip_noise`` off, the classic benchmarks' convention).
    """
    model = loaded.model
    train = loaded.meta.get("train") or {}
    if noise is None:
        noise = train.get("noise", "none") if train.get("task") != "reconstruct" else "none"
    noise_model = parse_noise(noise)
    if clip is None:
        clip = bool(train.get("clip_noise", True))
    scan = scan_folder(folder)
    if limit:
        scan = type(scan)(root=scan.root, images=scan.images[:limit], skipped=scan.skipped)
    size = model.image_size if model.kind == "autoencoder" else None
    decoded = decode_folder(scan, size=size, channels=None if size is None else model.channels)
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    out_psnr, out_ssim, in_psnr, in_ssim = [], [], [], []
    for index, array in enumerate(decoded.images):
        clean = torch.from_numpy(np.asarray(array, dtype=np.float32) / scale)
        noisy = noise_model.apply(clean[None], _seeded(seed, index), clip=clip)[0]
        if model.kind == "autoencoder":
            output = torch.from_numpy(reconstruct(model, noisy[None])[0]).permute(2, 0, 1)
        else:
            output = denoise_tensor(model, noisy)
        output = quantize(output, decoded.bit_depth)
        out_psnr.append(psnr(output[None], clean[None]))
        out_ssim.append(ssim(output[None], clean[None]))
        if noise_model.kind != "none":
            in_psnr.append(psnr(noisy[None], clean[None]))
            in_ssim.append(ssim(noisy[None].clamp(0, 1), clean[None]))
    report: dict[str, Any] = {
        "images": len(decoded.images),
        "model": loaded.name,
        "noise": str(noise_model),
        "psnr": round(float(np.mean(out_psnr)), 3),
        "ssim": round(float(np.mean(out_ssim)), 4),
    }
    if in_psnr:
        report["noisy_psnr"] = round(float(np.mean(in_psnr)), 3)
        report["noisy_ssim"] = round(float(np.mean(in_ssim)), 4)
    report["skipped"] = len(decoded.skipped)
    return report
