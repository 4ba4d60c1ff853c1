"""A latent map that follows a training run: one refresh from a snapshot of the weights.

While an autoencoder trains, the trainer reports a copy of its weights
(:class:`~aestudio.core.events.Snapshot`). With the run's architecture and image folder it
becomes a :class:`~aestudio.core.training.messages.LiveSnapshot`, and :func:`run_refresh`
turns what one holds into a map:

- a fresh model object takes the weights (a copy of a template built once per run, so a
  model someone already decodes with is never changed under them);
- the images already in memory are encoded again (the folder is read once, on the first
  refresh), with or without decoding every image for the reconstruction errors;
- the codes are laid out by themselves (a 2-number code) or by PCA with the signs of the
  previous fit, so the map does not mirror from one refresh to the next.

Scheduling (how often, and when not at all) is the caller's business. Torch is imported
inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aestudio.core.data.pca import PCAFit, fit_pca
from aestudio.core.latent.codes import FolderCodes, encode_folder, encode_images
from aestudio.core.latent.decoding import measure_decode_ms
from aestudio.core.latent.map import LatentMap, build_map, resolve_layout

__all__ = [
    "LIVE_LAYOUTS",
    "RefreshPlan",
    "RefreshResult",
    "aligned_pca",
    "encode_again",
    "layout_matches",
    "live_layout",
    "model_from_snapshot",
    "reusable_codes",
    "run_refresh",
]

LIVE_LAYOUTS = ("codes", "pca")  # fast enough to redo on every refresh


@dataclass(frozen=True)
class RefreshPlan:
    """What one refresh needs, gathered where the map is shown.

    ``model`` is a model ready to use (a model file taking over the map); otherwise the
    model is ``template`` (or, without one, ``architecture`` built anew) with ``state``
    loaded. ``base`` holds the images to encode again; without it ``folder`` is read.
    """

    run: int | None  # None: a model file takes the map over
    step: int
    state: Mapping[str, Any] | None
    model: Any
    architecture: tuple[str, dict[str, Any]] | None  # (registry name, create_model options)
    template: Any
    base: FolderCodes | None
    folder: str | None
    layout: str  # "auto", "codes" or "pca"
    axes: tuple[int, int] = (0, 1)
    residual: bool = False
    previous_pca: PCAFit | None = None
    measure: bool = False  # time one decode (once per run)
    with_errors: bool = True  # decode every image too (errors, reconstructions)


@dataclass
class RefreshResult:
    """A refreshed map."""

    run: int | None
    step: int
    model: Any
    template: Any
    data: FolderCodes
    latent_map: LatentMap
    seconds: float  # building the model, encoding and laying out
    decode_ms: float | None
    error_seconds: float | None  # decoding every image, when it was done


def model_from_snapshot(template: Any, state: Mapping[str, Any], device: Any = "cpu") -> Any:
    """A new model object: a copy of ``template`` with the snapshot's weights, in eval mode.

    A copy is made each time so that a model already decoding elsewhere is never modified;
    copying skips the random initialisation a new model would do. ``state`` may hold
    tensors or numpy arrays. The weights are stored channels-last, as
    :func:`~aestudio.core.models.modelfile.load_model_file` does.
    """
    import torch

    from aestudio.core.runtime.precision import to_channels_last

    model = copy.deepcopy(template)
    model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    # As a model file is loaded for inference: channels-last convolutions run faster.
    return to_channels_last(model.to(device)).eval()


def encode_again(model: Any, base: FolderCodes, stop: threading.Event | None = None,
                 with_errors: bool = True) -> FolderCodes:
    """``base``'s images encoded by ``model``.

    As :func:`~aestudio.core.latent.codes.encode_folder` computes them: codes, and with
    ``with_errors`` the errors (and reconstructions, when ``base`` keeps them); without,
    ``base``'s errors and reconstructions are kept.
    """
    data = copy.copy(base)  # same images, paths and labels (and their lookup tables)
    if with_errors:
        data.codes, data.errors, data.reconstructions = encode_images(
            model, base.images, base.scale, stop=stop, keep=base.reconstructions is not None)
    else:
        data.codes, _, _ = encode_images(model, base.images, base.scale, stop=stop,
                                         reconstruct=False)
    return data


def aligned_pca(codes: np.ndarray, previous: PCAFit | None) -> PCAFit:
    """A PCA fit of ``codes`` whose components point the way ``previous``'s did.

    A component's sign is arbitrary; keeping it stable stops a live map from flipping.
    """
    fit = fit_pca(codes)
    if previous is None or previous.components.shape != fit.components.shape:
        return fit
    signs = np.sign(np.einsum("kd,kd->k", fit.components, previous.components))
    signs[signs == 0] = 1.0
    return PCAFit(fit.mean, fit.components * signs[:, None], fit.explained)


def live_layout(codes: np.ndarray, layout: str, axes: tuple[int, int] = (0, 1),
                residual: bool = False, previous_pca: PCAFit | None = None) -> LatentMap:
    """The map of ``codes`` for layout "auto", "codes" or "pca" (non-linear ones are slow).

    Raises
    ------
    ValueError
        For a non-linear layout.
    """
    layout = resolve_layout(layout, codes.shape[1])
    if layout == "codes":
        return build_map(codes, "codes")
    if layout != "pca":
        raise ValueError(f"a live map is laid out by its codes or by PCA, not {layout}")
    return build_map(codes, "pca", axes=axes, add_residual=residual,
                     pca=aligned_pca(codes, previous_pca))


def layout_matches(latent_map: LatentMap, layout: str, axes: tuple[int, int],
                   residual: bool) -> bool:
    """Whether ``latent_map`` is laid out as chosen (a choice may change during a refresh)."""
    if latent_map.layout != layout:
        return False
    return layout != "pca" or (latent_map.axes == tuple(axes)
                               and latent_map.add_residual == residual)


def run_refresh(plan: RefreshPlan, stop: threading.Event | None = None) -> RefreshResult:
    """Build the model, encode and lay out: one refresh.

    Parameters
    ----------
    plan : RefreshPlan
    stop : threading.Event, optional
        Checked between chunks of images; raises
        :class:`~aestudio.core.data.records.ScanCancelled` when set.

    Returns
    -------
    RefreshResult
        With the nearest-point index of its map already built.
    """
    from aestudio.core.runtime.device import resolve_device

    start = time.perf_counter()
    template, model = plan.template, plan.model
    if model is None:
        if template is None:
            from aestudio.core.models import create_model

            if plan.architecture is None:
                raise ValueError("a refresh needs a model, a template or an architecture")
            name, options = plan.architecture
            template = create_model(name, **options)
        if plan.state is None:
            raise ValueError("a refresh from a template needs the snapshot's weights")
        model = model_from_snapshot(template, plan.state, resolve_device("auto"))
    error_seconds = None
    if plan.base is not None and not plan.with_errors:
        data = encode_again(model, plan.base, stop, with_errors=False)
    else:
        begin = time.perf_counter()
        if plan.base is not None:
            data = encode_again(model, plan.base, stop)
        elif plan.folder:
            data = encode_folder(model, plan.folder, stop=stop)
        else:
            raise ValueError("a refresh needs codes to encode again or a folder")
        # About the decoding's share: encoding is a fraction of it.
        error_seconds = time.perf_counter() - begin
    latent_map = live_layout(data.codes, plan.layout, plan.axes, plan.residual,
                             plan.previous_pca)
    latent_map.index  # noqa: B018  (built here, not where the map is drawn)
    decode_ms = measure_decode_ms(model) if plan.measure else None
    return RefreshResult(plan.run, plan.step, model, template, data, latent_map,
                         time.perf_counter() - start, decode_ms, error_seconds)


def same_folder(a: str | None, b: str | None) -> bool:
    """Whether two paths name the same existing folder."""
    if not a or not b:
        return False
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except OSError:
        return False


def reusable_codes(data: FolderCodes | None, folder: str | None, channels: int | None,
                   size: int | None) -> FolderCodes | None:
    """``data`` when its images are ``folder``'s at this model's channels and size."""
    if data is None or channels is None or size is None or not same_folder(data.root, folder):
        return None
    return data if tuple(data.images.shape[1:]) == (channels, size, size) else None
