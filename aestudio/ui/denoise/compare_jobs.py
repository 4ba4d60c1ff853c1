"""The compare view's background work: the region-by-region preview and its scores.

Both jobs call the engine inside their worker thread (:func:`aestudio.core.denoise.preview.
denoise_preview`, :func:`aestudio.core.evaluation.metrics.quality_scores`); importing this
module does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aestudio.core.denoise.mix import mix
from aestudio.core.denoise.preview import AllDone
from aestudio.core.denoise.regions import DEFAULT_REGION, Focus
from aestudio.ui.common.workers import JobFn, Worker

if TYPE_CHECKING:
    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["compare_job", "metrics_job"]


def compare_job(generation: int, loaded: LoadedModel | None, image: np.ndarray, *,
                reference: np.ndarray | None = None, noise: str = "none", seed: int = 0,
                focus: Focus | None = None, region_size: int = DEFAULT_REGION) -> JobFn:
    """A worker job running :func:`~aestudio.core.denoise.preview.denoise_preview`.

    Its events (``NoisyReady``, ``RegionDone``, ``AllDone``, each with ``generation``) are
    forwarded to the UI thread; the worker's stop flag ends it between regions.
    """

    def job(worker: Worker) -> AllDone | None:
        from aestudio.core.denoise.preview import denoise_preview

        return denoise_preview(loaded, image, on_event=worker.emit_event,
                               stop=worker.stop_event, generation=generation,
                               reference=reference, noise=noise, seed=seed, focus=focus,
                               region_size=region_size)

    return job


def metrics_job(generation: int, noisy: np.ndarray, denoised: np.ndarray | None,
                reference: np.ndarray, bit_depth: int, *, amount: float = 1.0,
                luma: float = 1.0, chroma: float = 1.0) -> JobFn:
    """A worker job returning ``(generation, scores)`` of the output the panes show.

    The output is ``denoised`` mixed with ``noisy`` (Amount, luma and chroma), or the noisy
    image itself when there is no model; see
    :func:`~aestudio.core.evaluation.metrics.quality_scores`.
    """

    def job(worker: Worker) -> tuple[int, dict[str, float]]:
        from aestudio.core.evaluation.metrics import quality_scores

        output = noisy if denoised is None else mix(noisy, denoised, amount=amount,
                                                     luma=luma, chroma=chroma)
        return generation, quality_scores(output, noisy, reference, bit_depth)

    return job
