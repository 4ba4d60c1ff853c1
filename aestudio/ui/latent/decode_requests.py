"""Every decode the latent explorer asks for, run in worker threads, newest request first.

Dragging across the map or panning with the decoded grid on asks for far more decodes than
can run. Each kind of request has its own :class:`~aestudio.ui.latent.jobs.LatestOnly`
runner: one job at a time, a newer request replacing the one still waiting. The jobs call
the engine (:mod:`aestudio.core.latent.decoding`); their results come back on the UI
thread as signals, and results of requests made before :meth:`DecodeRequests.invalidate`
(another model or map) are dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal

from aestudio.core.latent import decoding
from aestudio.core.latent.map import LatentMap
from aestudio.core.latent.probe import linear_probe
from aestudio.core.latent.scores import knn_label_accuracy
from aestudio.ui.common.workers import WorkerPool
from aestudio.ui.latent.jobs import LatestOnly

# The neighbour accuracy of a larger map is measured on a fixed subset of this many points.
KNN_SAMPLE = 20_000


class DecodeRequests(QObject):
    """The explorer's background decodes.

    Parameters
    ----------
    pool : WorkerPool
        Runs the jobs.
    parent : QObject, optional

    Signals
    -------
    probe_decoded(xy, code, image)
        The image at a probed map point.
    reconstruction_decoded(index, image)
        The model's reconstruction of image ``index``.
    grid_decoded(mosaic, rect)
        A decoded grid and the map rectangle it covers.
    path_decoded(frames, codes, path)
        An interpolation: frames, their codes and their map positions.
    knn_measured(accuracy)
        The 5-NN label accuracy of the map.
    probe_measured(codes, accuracy)
        The linear-probe accuracy of ``codes`` (the array it was asked for).
    failed(message, details)
        A job raised.
    """

    probe_decoded = Signal(object, object, object)
    reconstruction_decoded = Signal(int, object)
    grid_decoded = Signal(object, object)
    path_decoded = Signal(object, object, object)
    knn_measured = Signal(float)
    probe_measured = Signal(object, float)
    failed = Signal(str, str)

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.generation = 0
        self._probe = self._runner(pool, "decode point", self._on_probe)
        self._reconstruction = self._runner(pool, "reconstruct point", self._on_reconstruction)
        self._grid = self._runner(pool, "decode grid", self._on_grid)
        self._path = self._runner(pool, "interpolate", self._on_path)
        self._knn = self._runner(pool, "neighbour accuracy", self._on_knn)
        self._linear = self._runner(pool, "linear probe", self.probe_measured.emit)

    def _runner(self, pool: WorkerPool, name: str, slot: Any) -> LatestOnly:
        runner = LatestOnly(pool, name, self)
        runner.done.connect(slot)
        runner.failed.connect(self.failed)
        return runner

    def _runners(self) -> tuple[LatestOnly, ...]:
        return (self._probe, self._reconstruction, self._grid, self._path, self._knn,
                self._linear)

    def invalidate(self) -> None:
        """Drop the results of every request made so far (the model or the map changed)."""
        self.generation += 1

    def busy(self) -> bool:
        """True while a decode runs or waits."""
        return any(runner.busy() for runner in self._runners())

    def cancel(self) -> None:
        """Drop waiting requests and ask running jobs to stop."""
        for runner in self._runners():
            runner.cancel()

    def cancel_grid(self) -> None:
        self._grid.cancel()

    # -- requests ---------------------------------------------------------------------
    def probe(self, model: Any, xy: tuple[float, float], code: np.ndarray) -> None:
        """Decode ``code``, found at map point ``xy``."""
        self._probe.request(lambda: decoding.decode_codes(model, code[None])[0],
                            (xy, code, self.generation))

    def reconstruction(self, model: Any, code: np.ndarray, index: int) -> None:
        """Decode image ``index``'s own code."""
        self._reconstruction.request(lambda: decoding.decode_codes(model, code[None])[0],
                                     (index, self.generation))

    def grid(self, model: Any, latent_map: LatentMap, x_range: tuple[float, float],
             y_range: tuple[float, float], n: int, spacing: str) -> None:
        """Decode an n x n grid over a map rectangle."""
        rect = QRectF(x_range[0], y_range[0], x_range[1] - x_range[0], y_range[1] - y_range[0])
        self._grid.request(
            lambda: decoding.decode_grid(model, latent_map, x_range, y_range, n, spacing),
            (rect, self.generation))

    def path(self, model: Any, latent_map: LatentMap, a: np.ndarray, b: np.ndarray,
             a_xy: tuple[float, float], b_xy: tuple[float, float], steps: int,
             mode: str) -> None:
        """Interpolate between two codes and decode the frames in one batch."""
        self._path.request(lambda: decoding.decode_path(model, latent_map, a, b, a_xy, b_xy,
                                                        steps, mode), self.generation)

    def knn(self, positions: np.ndarray, labels: np.ndarray) -> None:
        """Measure the map's 5-NN label accuracy."""
        if len(positions) > KNN_SAMPLE:
            keep = np.random.default_rng(0).choice(len(positions), KNN_SAMPLE, replace=False)
            positions, labels = positions[keep], labels[keep]
        self._knn.request(lambda: knn_label_accuracy(positions, labels, 5), self.generation)

    def linear_probe(self, codes: np.ndarray, labels: np.ndarray) -> None:
        """Measure the codes' linear-probe accuracy (once per set of codes: it depends on
        the codes, not on the map's layout, so no layout change invalidates it)."""
        sample_codes, sample_labels = codes, labels
        if len(codes) > KNN_SAMPLE:
            keep = np.random.default_rng(0).choice(len(codes), KNN_SAMPLE, replace=False)
            sample_codes, sample_labels = codes[keep], labels[keep]
        self._linear.request(lambda: linear_probe(sample_codes, sample_labels).accuracy, codes)

    # -- results ----------------------------------------------------------------------
    def _on_probe(self, tag: tuple, image: np.ndarray) -> None:
        xy, code, generation = tag
        if generation == self.generation:
            self.probe_decoded.emit(xy, code, image)

    def _on_reconstruction(self, tag: tuple, image: np.ndarray) -> None:
        index, generation = tag
        if generation == self.generation:
            self.reconstruction_decoded.emit(index, image)

    def _on_grid(self, tag: tuple, mosaic: np.ndarray) -> None:
        rect, generation = tag
        if generation == self.generation:
            self.grid_decoded.emit(mosaic, rect)

    def _on_path(self, generation: int, result: tuple) -> None:
        if generation == self.generation:
            self.path_decoded.emit(*result)

    def _on_knn(self, generation: int, accuracy: float) -> None:
        if generation == self.generation:
            self.knn_measured.emit(float(accuracy))
