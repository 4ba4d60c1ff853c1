"""The latent explorer's longer jobs: opening a model, encoding a folder, slow layouts.

Each runs in a worker through :func:`~aestudio.ui.common.jobs.start_job`, calling the
engine; a newer request of the same kind stops the older one. Results and progress come back
as signals on the UI thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from aestudio.core.latent import decoding
from aestudio.core.latent.codes import FolderCodes, encode_folder
from aestudio.core.latent.map import LAYOUT_NAMES, LatentMap, build_map
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool


class MapJobs(QObject):
    """Loads, encodes, lays out and times models for one explorer.

    Signals
    -------
    model_loaded(model, decode_ms, name)
    encoded(data, latent_map)
        A folder's codes and their default map.
    laid_out(latent_map)
        A non-linear layout finished.
    decode_timed(model, decode_ms)
        The time of one decode of ``model``, measured in the background.
    progress(stage, done, total)
        Encoding progress (``total`` 0: no count).
    busy_changed(bool)
        An encoding or layout started, or the last one ended.
    failed(title, message, details)
    status(str)
    """

    model_loaded = Signal(object, float, str)
    encoded = Signal(object, object)
    laid_out = Signal(object)
    decode_timed = Signal(object, float)
    progress = Signal(str, int, int)
    busy_changed = Signal(bool)
    failed = Signal(str, str, str)
    status = Signal(str)

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._encode: JobRelay | None = None
        self._layout: JobRelay | None = None

    def busy(self) -> bool:
        """True while an encoding or a layout runs."""
        return self._encode is not None or self._layout is not None

    def cancel(self) -> None:
        """Stop encoding and laying out."""
        for relay in (self._encode, self._layout):
            if relay is not None:
                relay.request_stop()

    def cancel_encode(self) -> None:
        if self._encode is not None:
            self._encode.request_stop()

    def load_model(self, path: str) -> None:
        """Open a model file and time one decode."""
        relay = start_job(self.pool, lambda _w: decoding.load_autoencoder(path), "load model",
                          self)
        relay.succeeded.connect(lambda result: self.model_loaded.emit(*result))
        relay.failed.connect(lambda m, d: self.failed.emit("Cannot open the model", m, d))

    def time_decode(self, model: Any) -> None:
        """Measure one decode of ``model`` in the background."""
        relay = start_job(self.pool, lambda _w: decoding.measure_decode_ms(model),
                          "time a decode", self)
        relay.succeeded.connect(lambda ms: self.decode_timed.emit(model, ms))

    def encode(self, model: Any, folder: str) -> None:
        """Read and encode ``folder``, then lay the codes out (the default layout)."""
        self.cancel_encode()

        def job(worker: Worker) -> tuple[FolderCodes, LatentMap]:
            data = encode_folder(model, folder, stop=worker.stop_event,
                                 progress=lambda s, d, t: worker.emit_event((s, d, t)))
            worker.emit_event(("laying out", 0, 0))
            return data, build_map(data.codes)

        relay = start_job(self.pool, job, "encode folder", self)
        relay.event.connect(lambda event: self.progress.emit(*event))
        relay.succeeded.connect(lambda result: self.encoded.emit(*result))
        relay.failed.connect(lambda m, d: self._failed(relay, "Cannot encode the folder", m, d))
        relay.finished.connect(lambda: self._ended(relay))
        self._encode = relay
        self.busy_changed.emit(True)

    def layout(self, codes: np.ndarray, layout: str) -> None:
        """Compute a slow (non-linear) layout of ``codes``."""
        if self._layout is not None:
            self._layout.request_stop()
        name = LAYOUT_NAMES[layout]
        relay = start_job(self.pool, lambda _w: build_map(codes, layout), f"{name} layout",
                          self)
        relay.succeeded.connect(self.laid_out)
        relay.failed.connect(lambda m, d: self._failed(relay, "Cannot lay out the codes", m, d))
        relay.finished.connect(lambda: self._ended(relay))
        self._layout = relay
        self.busy_changed.emit(True)
        self.progress.emit(f"{name}…", 0, 0)
        self.status.emit(f"computing the {name} layout of {len(codes):,} codes…")

    def _failed(self, relay: JobRelay, title: str, message: str, details: str) -> None:
        if relay.stop_requested:
            self.status.emit("cancelled")
            return
        self.failed.emit(title, message, details)

    def _ended(self, relay: JobRelay) -> None:
        if relay is self._encode:
            self._encode = None
        if relay is self._layout:
            self._layout = None
        self.busy_changed.emit(self.busy())
