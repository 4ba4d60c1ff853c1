"""The latent map follows a training run: weight snapshots become map refreshes.

While an autoencoder trains, the training panel reports a copy of its weights about once a
second (:class:`~aestudio.ui.training.worker.LiveSnapshot`). :class:`LiveMap` turns them into
refreshes of a :class:`~aestudio.ui.latent.explorer.LatentExplorer`:

- each refresh runs in a worker: a fresh model object takes the weights (a copy of a template
  built once per run, so the model the map decodes with is never changed under a running
  decode), encodes the images already in memory (the folder is read once, on the first
  refresh) and lays the codes out (the codes themselves for a 2-number code, else PCA with
  the signs of the previous fit, so the map does not mirror from one refresh to the next);
- decoding every image (for the reconstruction errors and the kept reconstructions) costs
  several times the encoding, so it is redone less often: the codes are always the
  snapshot's, the errors may be a few refreshes older (the summary then says from when);
- one refresh at a time; snapshots that arrive meanwhile replace one another (latest wins);
- refreshes are at least :data:`MIN_INTERVAL_S` apart and :data:`COST_FACTOR` times their
  own duration (errors likewise, and :data:`HIDDEN_ERRORS_FACTOR` times less often while no
  error is on display), so the map takes a small share of the machine that trains;
- none while the map is hidden (the next one runs when it is shown again), none while a slow
  non-linear layout (t-SNE, UMAP) is shown;
- once the run ends, or a model file is opened, later snapshots are ignored; the final model
  file then takes the map over in place (:meth:`LiveMap.hand_over`), keeping the view.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer

from aestudio.core.data.pca import PCAFit, fit_pca
from aestudio.core.latent.explore import (
    FolderCodes,
    LatentMap,
    build_map,
    encode_folder,
    encode_images,
    resolve_layout,
)
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool

if TYPE_CHECKING:
    from aestudio.ui.latent.explorer import LatentExplorer
    from aestudio.ui.training.worker import LiveSnapshot

MIN_INTERVAL_S = 1.0
# Refreshes are spaced by at least this many times their own duration: with a refresh of
# 0.1 s the map takes at most a tenth of a core from the training.
COST_FACTOR = 10.0
# Decoding every image (errors, reconstructions) costs several refreshes; while the errors
# are not on display (colour by error, the anomaly list) it is redone this much less often.
HIDDEN_ERRORS_FACTOR = 3.0
LIVE_LAYOUTS = ("codes", "pca")  # fast enough to redo on every refresh


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class RefreshPlan:
    """What one refresh needs, gathered on the UI thread."""

    run: int | None  # None: the hand-over to a model file
    step: int
    state: dict[str, Any] | None  # the snapshot's weights, or None when ``model`` is given
    model: Any  # a model ready to use (hand-over), or None
    architecture: tuple[str, dict[str, Any]] | None  # (registry name, create_model options)
    template: Any  # the run's template model once built, else None
    base: FolderCodes | None  # codes whose images are encoded again; None: read the folder
    folder: str | None
    layout: str  # "auto", "codes" or "pca"
    axes: tuple[int, int] = (0, 1)
    residual: bool = False
    previous_pca: PCAFit | None = None
    measure: Callable[[Any], float] | None = None  # times one decode, once per run
    with_errors: bool = True  # decode every image too (errors, reconstructions)


@dataclass
class RefreshResult:
    """A refreshed map, handed back to the UI thread."""

    run: int | None
    step: int
    model: Any
    template: Any
    data: FolderCodes
    latent_map: LatentMap
    seconds: float  # building the model, encoding and laying out
    decode_ms: float | None
    error_seconds: float | None  # decoding every image, when it was done


def model_from_snapshot(template: Any, state: dict[str, Any], device: Any = "cpu") -> Any:
    """A new model object: a copy of ``template`` with the snapshot's weights, in eval mode.

    A copy is made each time so that a model the map already decodes with is never
    modified; copying skips the random initialisation a new model would do. The weights
    are stored channels-last, as :func:`~aestudio.core.models.modelfile.load_model_file` does.
    """
    from aestudio.core.runtime.precision import to_channels_last

    model = copy.deepcopy(template)
    model.load_state_dict(state)
    # As a model file is loaded for inference: channels-last convolutions run faster.
    return to_channels_last(model.to(device)).eval()


def encode_again(model: Any, base: FolderCodes, stop: threading.Event | None = None,
                 with_errors: bool = True) -> FolderCodes:
    """``base``'s images encoded by ``model``, as :func:`~aestudio.core.latent.explore.encode_folder`
    computes them: codes, and with ``with_errors`` the errors (and reconstructions, when
    ``base`` keeps them); without, ``base``'s errors and reconstructions are kept."""
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
    """The map of ``codes`` for layout "auto", "codes" or "pca" (non-linear ones are slow)."""
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
    """Build the model, encode and lay out: one refresh (runs in a worker thread)."""
    from aestudio.core.runtime.device import resolve_device

    start = time.perf_counter()
    template, model = plan.template, plan.model
    if model is None:
        if template is None:
            from aestudio.core.models import create_model

            assert plan.architecture is not None
            name, options = plan.architecture
            template = create_model(name, **options)
        assert plan.state is not None
        model = model_from_snapshot(template, plan.state, resolve_device("auto"))
    error_seconds = None
    if plan.base is not None and not plan.with_errors:
        data = encode_again(model, plan.base, stop, with_errors=False)
    else:
        begin = time.perf_counter()
        if plan.base is not None:
            data = encode_again(model, plan.base, stop)
        else:
            assert plan.folder is not None
            data = encode_folder(model, plan.folder, stop=stop)
        # About the decoding's share: encoding is a fraction of it.
        error_seconds = time.perf_counter() - begin
    latent_map = live_layout(data.codes, plan.layout, plan.axes, plan.residual,
                             plan.previous_pca)
    latent_map.index  # noqa: B018  (built here, not on the UI thread)
    decode_ms = plan.measure(model) if plan.measure is not None else None
    return RefreshResult(plan.run, plan.step, model, template, data, latent_map,
                         time.perf_counter() - start, decode_ms, error_seconds)


def same_folder(a: str | None, b: str | None) -> bool:
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


# --------------------------------------------------------------------------- UI side


class LiveMap(QObject):
    """Schedules the live refreshes of one explorer and hands their results to it.

    Parameters
    ----------
    explorer : LatentExplorer
        Shows the results (``_show_live``) and gives the map choices (``map_choice``).
    pool : WorkerPool
        Runs the refreshes.
    measure : callable
        Times one decode of a model in milliseconds (run once per run, in the worker).
    """

    def __init__(self, explorer: LatentExplorer, pool: WorkerPool,
                 measure: Callable[[Any], float]) -> None:
        super().__init__(explorer)
        self.explorer = explorer
        self.pool = pool
        self.measure = measure
        self.run: int | None = None  # the run followed
        self.closed_run = 0  # snapshots of runs up to this one are ignored
        self.step: int | None = None  # step of the weights the map shows
        self.showing = False  # the map shows a run's weights (not a model file's)
        self.ended: str | None = None  # how the run followed ended, once it did
        self.refreshes = 0  # refreshes shown in this run
        self.last_seconds = 0.0  # duration of the latest refresh without decoding
        self.error_seconds = 0.0  # duration of the latest decoding of every image
        self.errors_step: int | None = None  # step of the weights the errors come from
        self._architecture: tuple[str, dict[str, Any]] | None = None
        self._template: Any = None
        self._decode_ms: float | None = None
        self._fresh = True  # the next result replaces the map (first of a run)
        self._failed = False
        self._latest: LiveSnapshot | None = None
        self._relay: JobRelay | None = None
        self._relay_run: int | None = None  # the run of the running refresh (None: hand-over)
        self._handover = 0  # counts hand-overs; a result of an older one is dropped
        self._last_start = -math.inf
        self._errors_start = -math.inf
        self._waiting_note = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.poke)

    # -- what the explorer calls ----------------------------------------------------------
    def offer(self, snapshot: LiveSnapshot) -> None:
        """A new snapshot: shown soon unless the run was closed (latest wins)."""
        if snapshot.run <= self.closed_run:
            return
        if snapshot.run != self.run:
            self._begin(snapshot)
        if self._failed:
            return
        self._latest = snapshot
        self.poke()

    def pending(self) -> bool:
        """True while a snapshot waits or a refresh runs."""
        return self._latest is not None or self._relay is not None

    def busy(self) -> bool:
        return self._relay is not None

    def end(self, reason: str) -> None:
        """The run ended (completed, stopped, diverged, failed): later snapshots are ignored."""
        self._close()
        if self.showing:
            self.ended = reason

    def close(self) -> bool:
        """A model file takes over the map: stop following; True when the map showed a run."""
        self._close()
        shown, self.showing = self.showing, False
        return shown

    def forget_shown(self) -> None:
        """The map now shows something else (a model file's codes)."""
        self.showing = False
        self._handover += 1  # an unfinished hand-over must not overwrite it

    def summary_line(self) -> str | None:
        """"live: step 1,234 (training)" while the map shows a run's weights."""
        if not self.showing or self.step is None:
            return None
        if self.ended is None:
            line = f"live: step {self.step:,} (training)"
        else:
            line = f"from training: step {self.step:,} ({self.ended})"
        if self.errors_step is not None and self.errors_step != self.step:
            line += f"\nerrors from step {self.errors_step:,}"
        return line

    def shutdown(self) -> None:
        self._latest = None
        self._timer.stop()
        if self._relay is not None:
            self._relay.request_stop()

    def poke(self) -> None:
        """Start the waiting refresh when it may run now, or set a timer for when it may."""
        if self._latest is None or self._relay is not None:
            return
        if not self.explorer.isVisible():
            return  # the explorer's showEvent pokes again
        layout = self.explorer.map_choice()[0]
        if not self._fresh and layout not in LIVE_LAYOUTS:
            if not self._waiting_note:
                self._waiting_note = True
                self.explorer._emit_status("the live map waits while a non-linear layout is "
                                           "shown; choose Codes or PCA to follow the training")
            return
        wait = self._last_start + self.interval() - time.monotonic()
        if wait > 0:
            if not self._timer.isActive():
                self._timer.start(int(wait * 1000) + 1)
            return
        snapshot, self._latest = self._latest, None
        self._start(snapshot)

    def interval(self) -> float:
        """Seconds between the starts of two refreshes."""
        return max(MIN_INTERVAL_S, COST_FACTOR * self.last_seconds)

    def errors_due(self) -> bool:
        """Whether the next refresh decodes every image again (for the errors)."""
        if self._fresh or self.errors_step is None:
            return True
        factor = COST_FACTOR * (1.0 if self.explorer.errors_shown() else HIDDEN_ERRORS_FACTOR)
        spacing = max(MIN_INTERVAL_S, factor * self.error_seconds)
        return time.monotonic() - self._errors_start >= spacing

    def hand_over(self, model: Any, decode_ms: float) -> bool:
        """Show ``model`` (the run's model file) in place of the last snapshot, keeping the
        view; False when the codes in memory do not fit it (then encode the folder)."""
        ex = self.explorer
        layout, axes, residual = ex.map_choice()
        base = reusable_codes(ex.data, ex.folder, model.channels, model.image_size)
        if base is None or layout not in LIVE_LAYOUTS or base.latent_dim != model.latent_dim:
            return False
        self._handover += 1
        plan = RefreshPlan(run=None, step=self.step or 0, state=None, model=model,
                           architecture=None, template=None, base=base, folder=ex.folder,
                           layout=layout, axes=axes, residual=residual,
                           previous_pca=ex._pca)
        token = self._handover
        relay = self._launch(plan, "open model codes")
        relay.succeeded.connect(lambda result: self._on_handed_over(token, result, decode_ms))
        relay.failed.connect(lambda m, d: self._on_handover_failed(token, relay, m, d))
        return True

    # -- internals -------------------------------------------------------------------------
    def _begin(self, snapshot: LiveSnapshot) -> None:
        if self._relay is not None:
            self._relay.request_stop()  # a refresh of an earlier run: its result is dropped
        self.run = snapshot.run
        architecture = (snapshot.model, dict(snapshot.options))
        if architecture != self._architecture:
            self._architecture, self._template, self._decode_ms = architecture, None, None
        self._fresh, self._failed, self.ended = True, False, None
        self.step, self.refreshes, self._waiting_note = None, 0, False
        self.errors_step = None
        self._last_start = self._errors_start = -math.inf

    def _close(self) -> None:
        if self.run is not None:
            self.closed_run = max(self.closed_run, self.run)
        self._latest = None
        self._timer.stop()
        if self._relay is not None and self._relay_run is not None:
            self._relay.request_stop()

    def _plan(self, snapshot: LiveSnapshot) -> RefreshPlan:
        ex = self.explorer
        options = snapshot.options
        folder = ex.folder or snapshot.folder
        base = reusable_codes(ex.data, folder, options.get("channels"),
                              options.get("image_size"))
        if self._fresh:
            layout, axes, residual, previous = "auto", (0, 1), False, None
        else:
            (layout, axes, residual), previous = ex.map_choice(), ex._pca
        return RefreshPlan(run=snapshot.run, step=snapshot.step, state=snapshot.state,
                           model=None, architecture=self._architecture,
                           template=self._template, base=base, folder=folder, layout=layout,
                           axes=axes, residual=residual, previous_pca=previous,
                           measure=self.measure if self._decode_ms is None else None,
                           with_errors=self.errors_due())

    def _start(self, snapshot: LiveSnapshot) -> None:
        self._last_start = time.monotonic()
        plan = self._plan(snapshot)
        if plan.with_errors:
            self._errors_start = self._last_start
        if plan.base is None and not plan.folder:
            return  # no folder to encode yet
        if plan.base is None:
            self.explorer._emit_status(f"live map: reading {Path(plan.folder or '').name}…")
        relay = self._launch(plan, "live latent map")
        relay.succeeded.connect(self._on_refreshed)
        relay.failed.connect(lambda m, d: self._on_failed(relay, plan.run, m, d))

    def _launch(self, plan: RefreshPlan, name: str) -> JobRelay:
        if self._relay is not None:
            self._relay.request_stop()

        def job(worker: Worker) -> RefreshResult:
            return run_refresh(plan, worker.stop_event)

        relay = start_job(self.pool, job, name, self)
        relay.finished.connect(lambda: self._on_job_ended(relay))
        self._relay, self._relay_run = relay, plan.run
        return relay

    def _on_job_ended(self, relay: JobRelay) -> None:
        if relay is self._relay:
            self._relay = None
            self._relay_run = None
        self.poke()

    def _on_refreshed(self, result: RefreshResult) -> None:
        if result.run != self.run or result.run is None or result.run <= self.closed_run:
            return  # the run ended or another began meanwhile
        self._template = result.template
        if result.decode_ms is not None:
            self._decode_ms = result.decode_ms
        if not self._fresh and self.explorer.map_choice()[0] not in LIVE_LAYOUTS:
            return  # a non-linear layout was chosen meanwhile: the map keeps its codes
        self.step = result.step
        if result.error_seconds is not None:
            self.errors_step = result.step
            self.error_seconds = result.error_seconds
        self.showing = True
        self.refreshes += 1
        fresh, self._fresh = self._fresh, False
        start = time.perf_counter()
        self.explorer._show_live(result, fresh=fresh, decode_ms=self._decode_ms)
        # The cost of a refresh: the worker's part and the drawing here (decoding apart).
        self.last_seconds = (result.seconds - (result.error_seconds or 0.0)
                             + time.perf_counter() - start)

    def _on_failed(self, relay: JobRelay, run: int | None, message: str, details: str) -> None:
        if relay.stop_requested or run != self.run or (run or 0) <= self.closed_run:
            return
        self._failed = True  # one message per run; the next run tries again
        self._latest = None
        self.explorer._report("The live latent map stopped", message, details)

    def _on_handed_over(self, token: int, result: RefreshResult, decode_ms: float) -> None:
        if token != self._handover:
            return
        self.showing = False
        self.explorer._show_live(result, fresh=False, decode_ms=decode_ms)

    def _on_handover_failed(self, token: int, relay: JobRelay, message: str,
                            details: str) -> None:
        if token == self._handover and not relay.stop_requested:
            self.explorer._report("Cannot encode the folder", message, details)
