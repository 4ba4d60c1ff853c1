"""The latent map follows a training run: weight snapshots become map refreshes.

While an autoencoder trains, the training panel reports a copy of its weights about once a
second (:class:`~aestudio.core.training.messages.LiveSnapshot`). :class:`LiveMap` schedules the
refreshes (:func:`~aestudio.core.latent.live.run_refresh`, in a worker) and reports each
result by a signal; what it needs from the view it serves is the small :class:`LiveHost`
interface.

- One refresh at a time; snapshots that arrive meanwhile replace one another (latest wins).
- Refreshes are at least :data:`MIN_INTERVAL_S` apart and :data:`COST_FACTOR` times their
  own duration. Decoding every image (for the reconstruction errors) costs several times
  the encoding, so it is redone less often (:data:`HIDDEN_ERRORS_FACTOR` times less while
  no error is on display): the codes are always the snapshot's, the errors may be a few
  refreshes older (the summary then says from when).
- None while the map is hidden (:meth:`LiveMap.poke` runs the next one when it is shown
  again), none while a slow non-linear layout (t-SNE, UMAP) is shown.
- Once the run ends, or a model file is opened, later snapshots are ignored; the final model
  file then takes the map over in place (:meth:`LiveMap.hand_over`), keeping the view.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from aestudio.core.data.pca import PCAFit
from aestudio.core.latent.codes import FolderCodes
from aestudio.core.latent.live import (
    LIVE_LAYOUTS,
    RefreshPlan,
    RefreshResult,
    reusable_codes,
    run_refresh,
)
from aestudio.core.training.messages import LiveSnapshot
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool

MIN_INTERVAL_S = 1.0
# Refreshes are spaced by at least this many times their own duration, so the map takes a
# small share of the machine that trains.
COST_FACTOR = 10.0
# While the errors are not on display (colour by error, the anomaly list), decoding every
# image is redone this much less often.
HIDDEN_ERRORS_FACTOR = 3.0


class LiveHost(Protocol):
    """What a :class:`LiveMap` asks of the view it refreshes."""

    def isVisible(self) -> bool: ...  # noqa: N802  (Qt's name)

    def map_choice(self) -> tuple[str, tuple[int, int], bool]:
        """The layout chosen, its two axes and the PCA residual option."""
        ...

    def errors_shown(self) -> bool:
        """Whether reconstruction errors are on display."""
        ...

    def shown_codes(self) -> tuple[FolderCodes | None, str | None, PCAFit | None]:
        """The codes shown, the folder chosen and the PCA fit of the map."""
        ...


class LiveMap(QObject):
    """Schedules the live refreshes of one view and reports their results.

    Parameters
    ----------
    host : LiveHost
        Gives the map choices, whether it is visible, and the codes it shows.
    pool : WorkerPool
        Runs the refreshes.
    parent : QObject, optional

    Signals
    -------
    refreshed(result, fresh, decode_ms)
        Show this :class:`~aestudio.core.latent.live.RefreshResult`; ``fresh`` for the first
        of a run (reset the map), ``decode_ms`` the time of one decode when known.
    failed(title, message, details)
    status(str)
    """

    refreshed = Signal(object, bool, object)
    failed = Signal(str, str, str)
    status = Signal(str)

    def __init__(self, host: LiveHost, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.pool = pool
        self.run: int | None = None  # the run followed
        self.closed_run = 0  # snapshots of runs up to this one are ignored
        self.step: int | None = None  # step of the weights the map shows
        self.showing = False  # the map shows a run's weights (not a model file's)
        self.ended: str | None = None  # how the run followed ended, once it did
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

    # -- what the view calls ---------------------------------------------------------------
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
        """True while a refresh runs."""
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
        """Drop the waiting snapshot and stop the running refresh."""
        self._latest = None
        self._timer.stop()
        if self._relay is not None:
            self._relay.request_stop()

    def poke(self) -> None:
        """Start the waiting refresh when it may run now, or set a timer for when it may."""
        if self._latest is None or self._relay is not None or not self.host.isVisible():
            return
        if not self._fresh and self.host.map_choice()[0] not in LIVE_LAYOUTS:
            if not self._waiting_note:
                self._waiting_note = True
                self.status.emit("the live map waits while a non-linear layout is shown; "
                                 "choose Codes or PCA to follow the training")
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
        factor = COST_FACTOR * (1.0 if self.host.errors_shown() else HIDDEN_ERRORS_FACTOR)
        spacing = max(MIN_INTERVAL_S, factor * self.error_seconds)
        return time.monotonic() - self._errors_start >= spacing

    def hand_over(self, model: Any, decode_ms: float) -> bool:
        """Show ``model`` (the run's model file) in place of the last snapshot, keeping the
        view; False when the codes in memory do not fit it (then encode the folder)."""
        layout, axes, residual = self.host.map_choice()
        data, folder, pca = self.host.shown_codes()
        base = reusable_codes(data, folder, model.channels, model.image_size)
        if base is None or layout not in LIVE_LAYOUTS or base.latent_dim != model.latent_dim:
            return False
        self._handover += 1
        plan = RefreshPlan(run=None, step=self.step or 0, state=None, model=model,
                           architecture=None, template=None, base=base, folder=folder,
                           layout=layout, axes=axes, residual=residual, previous_pca=pca)
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
        self.step, self._waiting_note = None, False
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
        data, chosen_folder, pca = self.host.shown_codes()
        options = snapshot.options
        folder = chosen_folder or snapshot.folder
        base = reusable_codes(data, folder, options.get("channels"), options.get("image_size"))
        if self._fresh:
            layout, axes, residual, previous = "auto", (0, 1), False, None
        else:
            (layout, axes, residual), previous = self.host.map_choice(), pca
        return RefreshPlan(run=snapshot.run, step=snapshot.step, state=snapshot.state,
                           model=None, architecture=self._architecture,
                           template=self._template, base=base, folder=folder, layout=layout,
                           axes=axes, residual=residual, previous_pca=previous,
                           measure=self._decode_ms is None, with_errors=self.errors_due())

    def _start(self, snapshot: LiveSnapshot) -> None:
        self._last_start = time.monotonic()
        plan = self._plan(snapshot)
        if plan.with_errors:
            self._errors_start = self._last_start
        if plan.base is None and not plan.folder:
            return  # no folder to encode yet
        if plan.base is None:
            self.status.emit(f"live map: reading {Path(plan.folder or '').name}…")
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
        if not self._fresh and self.host.map_choice()[0] not in LIVE_LAYOUTS:
            return  # a non-linear layout was chosen meanwhile: the map keeps its codes
        self.step = result.step
        if result.error_seconds is not None:
            self.errors_step = result.step
            self.error_seconds = result.error_seconds
        self.showing = True
        fresh, self._fresh = self._fresh, False
        start = time.perf_counter()
        self.refreshed.emit(result, fresh, self._decode_ms)  # drawn before emit returns
        # The cost of a refresh: the worker's part and the drawing (decoding apart).
        self.last_seconds = (result.seconds - (result.error_seconds or 0.0)
                             + time.perf_counter() - start)

    def _on_failed(self, relay: JobRelay, run: int | None, message: str, details: str) -> None:
        if relay.stop_requested or run != self.run or (run or 0) <= self.closed_run:
            return
        self._failed = True  # one message per run; the next run tries again
        self._latest = None
        self.failed.emit("The live latent map stopped", message, details)

    def _on_handed_over(self, token: int, result: RefreshResult, decode_ms: float) -> None:
        if token != self._handover:
            return
        self.showing = False
        self.refreshed.emit(result, False, decode_ms)

    def _on_handover_failed(self, token: int, relay: JobRelay, message: str,
                            details: str) -> None:
        if token == self._handover and not relay.stop_requested:
            self.failed.emit("Cannot encode the folder", message, details)
