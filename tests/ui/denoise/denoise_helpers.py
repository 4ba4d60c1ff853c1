"""Shared pieces of the denoising UI tests: a tiny model, small images, thread checks."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from aestudio.core.io.write import write_image  # noqa: E402
from aestudio.core.models import create_model  # noqa: E402
from aestudio.core.models.modelfile import save_model_file  # noqa: E402


def tiny_denoiser(path: Path, channels: int = 3) -> Path:
    """A random-init U-Net denoiser (width 8, depth 2) saved as a model file."""
    torch.manual_seed(0)
    model = create_model("denoiser", channels=channels, width=8, depth=2)
    # A residual denoiser starts as the identity; random output weights make it change
    # the image, so the tests can tell its output from its input.
    with torch.no_grad():
        for p in model.net.out.parameters():
            p.normal_(0.0, 0.05)
    return save_model_file(path, model, train={"task": "denoise", "noise": "gaussian:25"})


def tiny_autoencoder(path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=4)
    return save_model_file(path, model)


def photo(height: int = 72, width: int = 88, seed: int = 0) -> np.ndarray:
    """A smooth RGB uint8 'photo' with an edge and some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width, y / height, (x + y) / (width + height)], axis=-1)
    base[height // 3:height // 2, width // 4:width // 2] = 0.9
    base += rng.normal(0, 0.05, base.shape)
    return (np.clip(base, 0, 1) * 255).round().astype(np.uint8)


def gray16(height: int = 64, width: int = 80, seed: int = 1) -> np.ndarray:
    """A 16-bit gray (H, W, 1) image."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = (x + y) / (width + height) + rng.normal(0, 0.03, (height, width))
    return (np.clip(base, 0, 1) * 65535).round().astype(np.uint16)[..., None]


def save_png(path: Path, array: np.ndarray) -> Path:
    write_image(path, array)
    return path


def save_broken(path: Path) -> Path:
    """A file that claims to be a PNG but is cut short."""
    Image.fromarray(photo(32, 32)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path
