"""Choosing, from the user's own noisy images, how far apart self-supervised training looks.

Self-supervised denoising compares pixels whose noise must be independent. On white noise
neighbours will do; on camera noise, spread over neighbours by demosaicing and JPEG, they
share their noise and the network learns to keep it. Before a self-supervised run of a
denoiser whose ``spacing`` is 0 (automatic), :func:`choose_spacing` measures the noise's
correlation on the training images (:mod:`aestudio.core.data.noise_estimate`) and sets the
spacing at which it is gone; the note it returns says what was measured and chosen.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from aestudio.core.data.noise_estimate import (
    INDEPENDENT_BELOW,
    MIN_SIDE,
    NoiseEstimate,
    estimate_images,
)
from aestudio.core.data.training_data import TrainingData
from aestudio.core.training.job import TrainingJob

SAMPLE_IMAGES = 16
# At most this many pixels of each image are looked at (a centre crop), to stay quick.
SAMPLE_SIDE = 512


def _sample(data: TrainingData) -> list[np.ndarray]:
    images = data.images
    count = len(images)
    step = max(1, count // SAMPLE_IMAGES)
    arrays = []
    for index in range(0, count, step)[:SAMPLE_IMAGES]:
        image = images[index]
        h, w = image.shape[-2:]
        if min(h, w) < MIN_SIDE:
            continue
        top, left = max(0, (h - SAMPLE_SIDE) // 2), max(0, (w - SAMPLE_SIDE) // 2)
        crop = image[..., top:top + SAMPLE_SIDE, left:left + SAMPLE_SIDE]
        arrays.append(crop.permute(1, 2, 0).numpy().astype(np.float64) / data.scale)
    return arrays


def spacing_note(estimate: NoiseEstimate, spacing: int) -> str:
    """What was measured and chosen, in words."""
    measured = (f"Noise about {estimate.sigma:.1f}/255; correlation between neighbouring pixels "
                f"{estimate.neighbours:.2f}")
    if spacing == 1:
        return (f"{measured} (below {INDEPENDENT_BELOW}): independent noise, so training "
                "compares neighbouring pixels (spacing 1)")
    return (f"{measured}: the noise is spread over neighbours, so training compares pixels "
            f"{spacing} apart, where it is independent (spacing {spacing}; set spacing 1 to "
            "compare neighbours)")


def _spaced_patches(job: TrainingJob, data: TrainingData,
                    spacing: int) -> tuple[TrainingJob, TrainingData]:
    """Patches ``spacing`` times larger and ``spacing**2`` times fewer per step: each
    sub-image is then as large as a patch was (a U-Net needs room to see), and a step holds
    as many pixels as before."""
    if spacing == 1 or data.patch is None:
        return job, data
    smallest = min(int(min(image.shape[-2:])) for image in data.images)
    cell = 2 * spacing  # whole 2x2 cells of sub-image pixels
    patch = max(cell, min(data.patch * spacing, smallest) // cell * cell)
    batch = max(1, job.train.batch_size // spacing**2)
    job = replace(job, data=replace(job.data, patch=patch),
                  train=replace(job.train, batch_size=batch))
    return job, replace(data, patch=patch)


def choose_spacing(job: TrainingJob, data: TrainingData, *,
                   resume: bool = False) -> tuple[TrainingJob, TrainingData, str | None]:
    """Settle an automatic ``spacing`` for a self-supervised denoiser run.

    Parameters
    ----------
    job
        The run; left as it is unless it trains a ``denoiser`` self-supervised with
        ``spacing`` 0 (the default).
    data
        Its training images (noisy, for this task).
    resume
        The run continues a model file: one without a spacing (written before there was
        one) keeps comparing neighbours, as it was trained to.

    Returns
    -------
    tuple
        The job with the spacing chosen (``spacing`` 1 for any other run left at 0, so the
        model file says what it does), the data (with larger patches for a spacing above 1,
        see :func:`_spaced_patches`), and a note for people, or None when nothing was
        measured.
    """
    if job.model != "denoiser" or resume:
        if job.model == "denoiser" and job.model_options.get("spacing", 0) == 0:
            job = replace(job, model_options={**job.model_options, "spacing": 1})
        return job, data, None
    spacing = job.model_options.get("spacing", 0)
    if job.train.task != "self-supervised":
        return replace(job, model_options={**job.model_options, "spacing": spacing or 1}), \
            data, None
    note = None
    if spacing == 0:
        try:
            estimate = estimate_images(_sample(data))
        except ValueError:  # images too small to measure: compare neighbours, as before
            estimate = None
        spacing = estimate.spacing if estimate is not None else 1
        note = spacing_note(estimate, spacing) if estimate is not None else None
        job = replace(job, model_options={**job.model_options, "spacing": spacing})
    job, data = _spaced_patches(job, data, spacing)
    if note and spacing > 1:
        note += f"; patches of {job.data.patch} px, {job.train.batch_size} per step"
    return job, data, note
