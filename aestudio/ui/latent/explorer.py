"""The latent explorer: a clickable 2-D map of an autoencoder's latent space.

Click anywhere on the map to decode that point; drag with the left button to decode
continuously; hover a point to see its image; Shift+click two points to interpolate.
A 2-number code and a PCA layout decode exactly; t-SNE and UMAP layouts decode a mix of
the nearest points' codes and say "approximate". While an autoencoder trains, the map follows
its weights (:mod:`aestudio.ui.latent.live`).

This module wires the parts together and holds what is shown; every decode, encode and
layout runs in a worker (:mod:`~aestudio.ui.latent.decode_requests`,
:mod:`~aestudio.ui.latent.loading`), never on the UI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from aestudio.core.data.pca import PCAFit
from aestudio.core.latent.codes import FolderCodes
from aestudio.core.latent.live import RefreshResult, layout_matches, live_layout
from aestudio.core.latent.map import LatentMap, build_map
from aestudio.core.training.messages import LiveSnapshot
from aestudio.ui.common.errors import error_box
from aestudio.ui.common.workers import WorkerPool
from aestudio.ui.latent.colouring import PointColours
from aestudio.ui.latent.controls import MapBar, MapFooter, select_data
from aestudio.ui.latent.decode_requests import DecodeRequests
from aestudio.ui.latent.exports import ExportActions
from aestudio.ui.latent.frame import install_frame, map_column
from aestudio.ui.latent.grid_overlay import GridOverlay
from aestudio.ui.latent.interpolation import InterpolationStrip, Interpolator
from aestudio.ui.latent.live import LiveMap
from aestudio.ui.latent.loading import MapJobs
from aestudio.ui.latent.map_view import MapView
from aestudio.ui.latent.probing import PointProbe
from aestudio.ui.latent.side_panels import LegendPanel, SideTabs

# Fewer labelled codes say nothing that a held-out fifth of them could show.
PROBE_MIN_IMAGES = 20


class LatentExplorer(QWidget):
    """A self-contained latent-space explorer.

    Parameters
    ----------
    pool : WorkerPool
        Runs every load, encode, layout and decode.
    parent : QWidget, optional

    Signals
    -------
    status(str)
        A one-line message for a status bar.
    busy_changed(bool)
        Encoding or laying out started / ended.
    live_refreshed(int)
        The map now shows the weights of this training step (see
        :meth:`show_training_snapshot`).
    """

    status = Signal(str)
    busy_changed = Signal(bool)
    live_refreshed = Signal(int)

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.model: Any = None
        self.folder: str | None = None
        self.data: FolderCodes | None = None
        self.latent_map: LatentMap | None = None
        self.decode_ms: float | None = None
        self._pca: PCAFit | None = None
        self._knn: float | None = None
        self._probe_accuracy: float | None = None
        self._view_moved = False  # the user zoomed or panned: refreshes keep the view
        self._handover = False  # the model being loaded takes over a live map in place
        self._build_ui()
        self.decodes = DecodeRequests(pool, self)
        self.probe = PointProbe(self.map_view, self.side.point, self.decodes,
                                lambda: (self.model, self.data, self.latent_map), self)
        self.decodes.knn_measured.connect(self._on_knn)
        self.decodes.probe_measured.connect(self._on_linear_probe)
        self.decodes.failed.connect(lambda m, d: self._report("Decoding failed", m, d))
        self.jobs = MapJobs(pool, self)
        self.jobs.model_loaded.connect(self._on_model_loaded)
        self.jobs.encoded.connect(self._install_encoded)
        self.jobs.laid_out.connect(lambda lm: self._show_map(lm, fit=True))
        self.jobs.decode_timed.connect(self._on_decode_timed)
        self.jobs.progress.connect(self.bar.show_progress)
        self.jobs.busy_changed.connect(self._set_busy)
        self.jobs.failed.connect(self._report)
        self.jobs.status.connect(self.status)
        self.live = LiveMap(self, pool, self)
        self.live.refreshed.connect(self._show_live)
        self.live.failed.connect(self._report)
        self.live.status.connect(self.status)
        self.grid = GridOverlay(self.map_view, self.footer, self.decodes,
                                lambda: (self.model, self.latent_map), self)
        self.interpolator = Interpolator(self.interpolation, self.map_view, self.decodes,
                                         lambda: (self.model, self.latent_map), self)
        self.interpolator.status.connect(self.status)
        self.exports = ExportActions(self, lambda: (self.data, self.latent_map),
                                     self.interpolator.frames)
        self.colours = PointColours(self.bar, self.legend, self.map_view,
                                    lambda: (self.data, self.latent_map), self)
        self.exports.wrote.connect(self.status)
        self.exports.failed.connect(lambda title, message: self._report(title, message, ""))
        self._update_enabled()

    # ================================================================== construction
    def _build_ui(self) -> None:
        self.map_view = MapView(self)
        self.map_view.probed.connect(self._on_probed)
        self.map_view.view_box.sigRangeChangedManually.connect(self._on_view_moved)
        self.bar = MapBar()
        self.bar.layout_changed.connect(self._relayout)
        self.bar.cancel_clicked.connect(self.cancel)
        self.footer = MapFooter()
        self.footer.export_requested.connect(lambda kind: self.exports.ask(kind))
        self.interpolation = InterpolationStrip()
        self.interpolation.save_requested.connect(lambda kind: self.exports.ask(kind))
        self.legend_panel = LegendPanel()
        self.side = SideTabs()
        self.side.point.picked.connect(self.select_point)
        self.side.ranking.picked.connect(self.select_point)
        self.side.ranking.export_clicked.connect(lambda: self.exports.ask("anomalies"))
        # The parts tests and the benchmarks read.
        self.legend, self.summary = self.legend_panel.legend, self.legend_panel.summary
        self.decoded_pane = self.side.point.decoded_pane
        install_frame(self, self.legend_panel,
                      map_column(self.bar, self.map_view, self.footer, self.interpolation,
                                 stretch=self.map_view), self.side)

    def _update_enabled(self) -> None:
        ready = self.latent_map is not None and self.model is not None
        for w in (self.bar.layout_combo, self.bar.colour_combo, self.footer.grid_box,
                  self.footer.grid_size, self.footer.export_button):
            w.setEnabled(ready)
        self.interpolation.set_controls_enabled(ready)

    # ================================================================== public API
    def set_model(self, path: str) -> None:
        """Load a model file (in the background), then encode the folder if one is set.

        A map that follows a training run stops following it; when the file fits the
        images in memory (the run's own model file), it takes the map over in place.
        """
        self._handover = self.live.close() or self._handover
        self.jobs.load_model(str(path))
        self.status.emit(f"loading {Path(path).name}…")

    def set_folder(self, path: str) -> None:
        """Encode this folder with the current model (now, or once a model is loaded)."""
        self.folder = str(path)
        if self.model is not None:
            self._start_encode()

    def set_encoded(self, model: Any, data: FolderCodes, layout: str = "auto",
                    decode_ms: float | None = None) -> None:
        """Show codes computed elsewhere (the model must be the one that made them).

        ``decode_ms``: the time of one decode, when known (else measured in the background).
        """
        self.model = model
        self.decode_ms = decode_ms
        if decode_ms is None:
            self.jobs.time_decode(model)
        self.live.forget_shown()
        self._install(data, build_map(data.codes, layout))

    def show_training_snapshot(self, snapshot: LiveSnapshot) -> None:
        """Follow a training run: show the map of these weights soon (about once a second at
        most, only while the explorer is visible, latest snapshot wins)."""
        self.live.offer(snapshot)

    def end_training(self, reason: str) -> None:
        """The run followed ended: later snapshots of it are ignored."""
        self.live.end(reason)
        self._update_summary()

    def live_step(self) -> int | None:
        """The training step whose weights the map shows, or None (a model file's map)."""
        return self.live.step if self.live.showing else None

    def errors_shown(self) -> bool:
        """Whether reconstruction errors are on display (colour by error, anomaly list)."""
        return self.bar.colour_mode() == "error" or self.side.anomalies_shown()

    def map_choice(self) -> tuple[str, tuple[int, int], bool]:
        """The layout chosen, its two axes and the PCA residual option."""
        return self.bar.choice()

    def shown_codes(self) -> tuple[FolderCodes | None, str | None, PCAFit | None]:
        """The codes shown, the folder chosen and the PCA fit of the map."""
        return self.data, self.folder, self._pca

    def set_layout(self, layout: str, axes: tuple[int, int] = (0, 1),
                   residual: bool = False) -> None:
        """Choose the layout ("codes", "pca", "tsne", "umap") and PCA components."""
        self.bar.set_choice(layout, axes, residual)
        self._relayout()

    def set_colour_by(self, mode: str) -> None:
        """Colour by "label", "error" or "none"."""
        select_data(self.bar.colour_combo, mode)

    def set_highlight(self, labels: set[str] | None) -> None:
        """Highlight these labels (others greyed); None highlights all."""
        self.legend.set_checked(labels)

    def set_grid_visible(self, on: bool) -> None:
        self.footer.grid_box.setChecked(on)

    def grid_spacing(self) -> str:
        """"prior" for a VAE shown by its raw codes (cells of equal prior mass), else
        "uniform"."""
        return self.grid.spacing()

    def click_at(self, x: float, y: float, shift: bool = False) -> None:
        """Act as a click on the map at map coordinates (x, y)."""
        modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        self._on_probed(x, y, "click", modifiers)

    def select_point(self, index: int) -> None:
        """Decode at image ``index``'s position, as if it were clicked."""
        if self.latent_map is not None:
            x, y = self.latent_map.positions[int(index)]
            self.probe.probe(float(x), float(y), snap=int(index))

    def selected_point(self) -> int | None:
        """The image nearest to the probed point (its neighbours are ringed), or None."""
        return self.probe.selected

    def decoded_image(self) -> np.ndarray | None:
        """The image decoded at the last probed point, (S, S, C) float32, or None."""
        return self.decoded_pane.array

    def probe_code(self) -> np.ndarray | None:
        """The code decoded at the last probed point."""
        return self.probe.code

    def interpolate_between(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Interpolate between two map points (snapped to images when on one)."""
        self.interpolator.endpoints.clear()
        for x, y in (a, b):
            self.interpolator.add_end((x, y), self.probe.near_point(x, y))

    def interpolation_frames(self) -> np.ndarray | None:
        """The decoded frames (n, S, S, C) of the current interpolation."""
        return self.interpolator.frames()

    def clear_interpolation(self) -> None:
        self.interpolator.clear()

    def export_table(self, path: str) -> Path:
        """Write codes, positions, paths, labels and errors (.csv or .npy)."""
        return self.exports.table(path)

    def export_anomalies(self, path: str) -> Path:
        """Write the images ranked by reconstruction error (CSV)."""
        return self.exports.anomalies(path)

    def export_strip(self, path: str) -> Path:
        return self.exports.strip(path)

    def export_gif(self, path: str) -> Path:
        return self.exports.gif(path)

    def export_frames(self, folder: str) -> list[Path]:
        return self.exports.frames(folder)

    def cancel(self) -> None:
        """Stop encoding or laying out."""
        self.jobs.cancel()

    def shutdown(self) -> None:
        """Ask every job of the explorer to stop (the pool waits for them)."""
        self.jobs.cancel()
        self.live.shutdown()
        self.decodes.cancel()
        self.grid.cancel()

    def is_busy(self) -> bool:
        return self.decodes.busy() or self.jobs.busy() or self.live.busy()

    def showEvent(self, event: Any) -> None:  # Qt override
        super().showEvent(event)
        self.live.poke()  # snapshots that came while hidden

    # ================================================================== loading
    def _on_model_loaded(self, model: Any, decode_ms: float, name: str) -> None:
        handover, self._handover = self._handover, False
        if handover and self.live.hand_over(model, decode_ms):
            self.status.emit(f"{name}: the final model takes the map over")
            return
        self.model, self.decode_ms = model, decode_ms
        self.status.emit(f"{name}: {model.latent_dim}-number code, one decode "
                         f"{decode_ms:.1f} ms")
        if self.folder is not None:
            self._start_encode()

    def _on_decode_timed(self, model: Any, decode_ms: float) -> None:
        if model is self.model:
            self.decode_ms = decode_ms
            self._update_summary()

    def _start_encode(self) -> None:
        assert self.folder is not None
        self.jobs.encode(self.model, self.folder)

    def _set_busy(self, busy: bool) -> None:
        self.bar.set_busy(busy)
        self.busy_changed.emit(busy)

    def _install_encoded(self, data: FolderCodes, latent_map: LatentMap) -> None:
        self.live.forget_shown()
        self._install(data, latent_map)

    def _install(self, data: FolderCodes, latent_map: LatentMap) -> None:
        """New codes: reset the map, legend, side panel and anomalies."""
        self.data = data
        self._pca = latent_map.pca
        self.bar.set_layout_choices(data.latent_dim)
        pca = latent_map.layout == "pca"
        self.bar.set_choice(latent_map.layout, latent_map.axes if pca else (0, 1),
                            latent_map.add_residual)
        self.clear_interpolation()
        self.probe.reset()
        self.side.point.clear()
        self.colours.rebuild_legend()
        self.side.rank(data)
        self._request_linear_probe()
        self._show_map(latent_map, fit=True)

    # ================================================================== layout
    def _relayout(self) -> None:
        if self.data is None:
            return
        layout, axes, residual = self.map_choice()
        if layout == "pca" and axes[0] == axes[1]:
            self.status.emit("choose two different components")
            return
        codes = self.data.codes
        if layout not in ("codes", "pca"):
            self.jobs.layout(codes, layout)
            return
        # Fast (a projection with the fit kept): done here so switching components feels
        # immediate.
        try:
            lm = build_map(codes, layout, axes=axes, add_residual=residual, pca=self._pca)
        except ValueError as exc:
            self._report("Cannot lay out the codes", str(exc), "")
            return
        self._pca = lm.pca or self._pca
        self._show_map(lm, fit=True)
        self.live.poke()  # a live map waits while a non-linear layout is shown

    def _show_map(self, latent_map: LatentMap, fit: bool = False) -> None:
        self.decodes.invalidate()
        self.latent_map = latent_map
        latent_map.index  # noqa: B018  (built now, not on the first hover)
        self.map_view.set_axis_titles(*latent_map.axis_titles())
        self.colours.draw()
        if fit:
            self.map_view.fit(latent_map.positions)
            self._view_moved = False
        self.footer.set_exact(latent_map.exact)
        self.clear_interpolation()
        self.probe.forget_point()
        self._after_new_positions()

    def _after_new_positions(self) -> None:
        self._update_enabled()
        self._update_summary()
        self._request_knn()
        self.grid.request()

    def _update_summary(self) -> None:
        data, lm = self.data, self.latent_map
        if data is None or lm is None:
            return
        self.legend_panel.show_summary(data, lm, self.live.summary_line(), self._knn,
                                       self.decode_ms, self._probe_accuracy)

    def _request_knn(self) -> None:
        self._knn = None
        data, lm = self.data, self.latent_map
        if data is not None and lm is not None and len(data.label_names) >= 2:
            self.decodes.knn(lm.positions, data.label_index)

    def _on_knn(self, accuracy: float) -> None:
        self._knn = accuracy
        self._update_summary()

    def _request_linear_probe(self) -> None:
        """Probe new codes, except those of a run still training (they change each second)."""
        self._probe_accuracy = None
        data = self.data
        if (data is not None and self.live_step() is None and len(data.label_names) >= 2
                and len(data) >= PROBE_MIN_IMAGES):
            self.decodes.linear_probe(data.codes, data.label_index)

    def _on_linear_probe(self, codes: np.ndarray, accuracy: float) -> None:
        if self.data is not None and codes is self.data.codes:  # not of older codes
            self._probe_accuracy = accuracy
            self._update_summary()

    # ================================================================== live
    def _on_view_moved(self, *_args: Any) -> None:
        self._view_moved = True

    def _show_live(self, result: RefreshResult, fresh: bool, decode_ms: float | None) -> None:
        """Show a live refresh (or the run's model file taking over): its model and codes.

        The first refresh of a run resets the map; later ones move the points in place,
        keeping the view (once the user zoomed or panned), the colouring, the legend's
        choices, the selected point and the interpolation ends.
        """
        self.jobs.cancel_encode()  # codes of an older model: no longer wanted
        self.model = result.model
        if decode_ms is not None:
            self.decode_ms = decode_ms
        old, lm = self.data, result.latent_map
        if (fresh or old is None or old.images is not result.data.images
                or old.latent_dim != result.data.latent_dim):
            self._install(result.data, lm)
        else:
            choice = self.map_choice()
            if not layout_matches(lm, *choice):  # changed while the refresh ran
                lm = live_layout(result.data.codes, *choice, previous_pca=self._pca)
            self._update_in_place(result.data, lm)
        step = self.live_step()
        if step is not None:
            self.live_refreshed.emit(step)

    def _update_in_place(self, data: FolderCodes, latent_map: LatentMap) -> None:
        """New codes of the same images: move the points, keep what the user set."""
        self.data = data
        self._request_linear_probe()
        self._pca = latent_map.pca  # a fit of older codes must not be reused
        self.decodes.invalidate()  # decodes still running used the previous model
        titles = latent_map.axis_titles()
        if self.latent_map is None or self.latent_map.axis_titles() != titles:
            self.map_view.set_axis_titles(*titles)
        self.latent_map = latent_map
        if self.bar.colour_mode() == "error":
            self.colours.rebuild_legend()  # the error bins moved (no choices in this legend)
        self.colours.draw()
        if not self._view_moved:
            self.map_view.fit(latent_map.positions)
        self.side.rank(data, now=False)
        self.probe.follow()
        self.interpolator.follow()
        self._after_new_positions()

    # ================================================================== probing
    def _on_probed(self, x: float, y: float, phase: str, modifiers: Any) -> None:
        if self.latent_map is None or self.model is None:
            return
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier) if modifiers else False
        if shift and phase == "click":
            self.interpolator.add_end((x, y), self.probe.near_point(x, y))
        else:
            self.probe.probe(x, y)

    # ================================================================== helpers
    def _report(self, title: str, message: str, details: str) -> None:
        self.status.emit(f"{title}: {message}")
        box = error_box(self, title, message, details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): a dialog must not block the event loop (or a test)
