"""Files of the denoising views: dialog filters, one-line descriptions, and loading jobs.

The jobs run in a worker thread and call the engine there; importing this module does not
import torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aestudio.core.facts import MODEL_SUFFIX
from aestudio.core.io.formats import IMAGE_SUFFIXES, ImageInfo
from aestudio.core.models.summary import describe_meta
from aestudio.ui.common.workers import JobFn, Worker

if TYPE_CHECKING:
    from aestudio.core.data.noise_estimate import NoiseEstimate
    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["IMAGE_FILTER", "MODEL_FILTER", "MODEL_SUFFIX", "describe_image", "describe_model",
           "describe_noise",
           "load_image_job", "load_model_job", "load_reference_job"]

IMAGE_FILTER = "Images ({})".format(" ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)))
MODEL_FILTER = f"aestudio models (*{MODEL_SUFFIX})"


def describe_image(path: str | Path, info: ImageInfo,
                   noise: NoiseEstimate | None = None) -> str:
    """``name · 481 × 321 · RGB · 8-bit · noise ≈ 4.2/255 (correlated)`` for the status line."""
    colour = "gray" if info.channels == 1 else "RGB"
    text = f"{Path(path).name} · {info.width} × {info.height} · {colour} · {info.bit_depth}-bit"
    if noise is not None:
        kind = "correlated" if noise.correlated else "independent"
        text += f" · noise ≈ {noise.sigma:.1f}/255 ({kind})"
    return text


def describe_noise(noise: NoiseEstimate | None) -> str:
    """The estimate in a sentence or two, for a tooltip."""
    if noise is None:
        return "Too small to estimate its noise."
    from aestudio.core.data.noise_estimate import describe_levels

    return (f"Estimated from the photo: {noise.describe()}.\nBy brightness: "
            f"{describe_levels(noise)}.\nSelf-supervised training on photos like this "
            f"compares pixels {noise.spacing} apart.")


def describe_model(path: str | Path, loaded: LoadedModel) -> str:
    """``name · denoiser (unet, width 32, depth 3) · trained on gaussian:25``."""
    return describe_meta(path, loaded.meta)


def load_image_job(path: str) -> JobFn:
    """A job returning ``(array, ImageInfo, NoiseEstimate or None)`` of an image file."""
    def job(worker: Worker) -> tuple[np.ndarray, ImageInfo, NoiseEstimate | None]:
        from aestudio.core.data.noise_estimate import estimate_photo
        from aestudio.core.io.read import read_image

        array, info = read_image(path)
        return array, info, estimate_photo(array)

    return job


def load_reference_job(path: str, shape: tuple[int, ...], dtype: np.dtype) -> JobFn:
    """A job reading a clean reference, brought to the image's channels and dtype.

    Raises (in the job) :class:`~aestudio.core.errors.UserError` when its size differs.
    """

    def job(worker: Worker) -> np.ndarray:
        from aestudio.core.denoise.inputs import read_reference

        return read_reference(path, shape, dtype)

    return job


def load_model_job(path: str) -> JobFn:
    """A job returning ``(LoadedModel, device description)`` on the best device."""
    def job(worker: Worker) -> tuple[LoadedModel, str]:
        from aestudio.core.models.opening import open_model

        return open_model(path)

    return job
