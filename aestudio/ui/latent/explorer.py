"""The latent explorer: a clickable 2-D map of an autoencoder's latent space.

Click anywhere on the map to decode that point; drag with the left button to decode
continuously; hover a point to see its image; Shift+click two points to interpolate.
A 2-number code and a PCA layout decode exactly; t-SNE and UMAP layouts decode a mix of
the nearest points' codes and say "approximate". While an autoencoder trains, the map follows
its weights (:mod:`aestudio.ui.latent.live`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aestudio.core.errors import UserError
from aestudio.core.latent.explore import (
    LAYOUT_NAMES,
    MIX_NEIGHBOURS,
    FolderCodes,
    LatentMap,
    build_map,
    encode_folder,
    grid_cells,
    grid_codes,
    grid_mosaic,
    knn_label_accuracy,
    nonlinear_status,
    ranked_by_error,
)
from aestudio.core.latent.export import (
    save_frames,
    save_gif,
    save_strip,
    write_anomalies,
    write_table,
)
from aestudio.core.latent.map_render import ERROR_COLOURS, LABEL_COLOURS
from aestudio.ui.common.errors import error_box
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.latent.jobs import LatestOnly
from aestudio.ui.latent.live import LiveMap, RefreshResult, layout_matches, live_layout
from aestudio.ui.latent.map_view import MapView, make_brush
from aestudio.ui.latent.panels import (
    GREY,
    PLAIN,
    AnomalyList,
    ImagePane,
    LegendList,
    StripView,
    ThumbGrid,
    caption,
)

# A click decodes on the UI thread only when one decode is this fast (measured per model).
SYNC_DECODE_MS = 4.0
NEIGHBOURS = 8
HOVER_PIXELS = 8
ANOMALIES_SHOWN = 300
GRID_DEBOUNCE_MS = 150
KNN_SAMPLE = 20_000
SLERP_TIP = ("Spherical interpolation: only sensible for VAEs with more than about 8 latent "
             "dimensions, where codes lie near a shell; use lerp otherwise.")
APPROXIMATE_TIP = ("t-SNE and UMAP have no inverse: a point decodes a distance-weighted mix of "
                   f"the {MIX_NEIGHBOURS} nearest images' codes.")


class LatentExplorer(QWidget):
    """A self-contained latent-space explorer.

    Parameters
    ----------
    pool : WorkerPool
        Runs every load, encode, layout and batch decode.
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
    live_refreshed = Signal(int)  # the map now shows the training's weights of this step

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.model: Any = None
        self.model_path: str | None = None
        self.model_name = ""
        self.folder: str | None = None
        self.data: FolderCodes | None = None
        self.latent_map: LatentMap | None = None
        self.sync_decode = False
        self.decode_ms: float | None = None
        self._pca = None
        self._brushes: np.ndarray | None = None
        self._order: np.ndarray | None = None
        self._probe_xy: tuple[float, float] | None = None
        self._probe_code: np.ndarray | None = None
        self._selected: int | None = None
        self._endpoints: list[tuple[tuple[float, float], np.ndarray, int | None]] = []
        self._frames: np.ndarray | None = None
        self._frame_codes: np.ndarray | None = None
        self._encode_relay: JobRelay | None = None
        self._layout_relay: JobRelay | None = None
        self._generation = 0
        self._knn: float | None = None
        self._probe_snap: int | None = None
        self._neighbour_idx: np.ndarray | None = None
        self._view_moved = False  # the user zoomed or panned: refreshes keep the view
        self._anomalies_stale = False
        self._handover = False  # the model being loaded takes over a live map in place
        self._build_ui()
        self.map_view.view_box.sigRangeChangedManually.connect(self._on_view_moved)
        self.tabs.currentChanged.connect(lambda _i: self._fill_anomalies_if_shown())
        self.live = LiveMap(self, pool, measure_decode_ms)
        self.probe_jobs = LatestOnly(pool, "decode point", self)
        self.probe_jobs.done.connect(self._on_probe_decoded)
        self.recon_jobs = LatestOnly(pool, "reconstruct point", self)
        self.recon_jobs.done.connect(self._on_recon_decoded)
        self.grid_jobs = LatestOnly(pool, "decode grid", self)
        self.grid_jobs.done.connect(self._on_grid_decoded)
        self.batch_jobs = LatestOnly(pool, "interpolate", self)
        self.batch_jobs.done.connect(self._on_interpolated)
        self.knn_jobs = LatestOnly(pool, "neighbour accuracy", self)
        self.knn_jobs.done.connect(self._on_knn)
        for jobs in self._job_runners():
            jobs.failed.connect(lambda m, d: self._report("Decoding failed", m, d))
        self._grid_timer = QTimer(self)
        self._grid_timer.setSingleShot(True)
        self._grid_timer.setInterval(GRID_DEBOUNCE_MS)
        self._grid_timer.timeout.connect(self._request_grid)
        self._update_enabled()

    # ================================================================== construction
    def _build_ui(self) -> None:
        self.map_view = MapView(self)
        self.map_view.probed.connect(self._on_probed)
        self.map_view.hovered.connect(self._on_hovered)
        self.map_view.left.connect(self._on_left)
        self.map_view.range_changed.connect(self._on_range_changed)

        # -- controls above the map
        self.layout_combo = QComboBox()
        self.layout_combo.setToolTip("How codes are placed on the map")
        for key, text in (("codes", "Codes (exact)"), ("pca", "PCA (exact)"),
                          ("tsne", "t-SNE (approximate)"), ("umap", "UMAP (approximate)")):
            self.layout_combo.addItem(text, key)
        self.layout_combo.currentIndexChanged.connect(lambda _i: self._relayout())
        self.pc_x = QComboBox()
        self.pc_y = QComboBox()
        for combo, tip in ((self.pc_x, "Component on the x axis"),
                           (self.pc_y, "Component on the y axis")):
            combo.setToolTip(tip)
            combo.currentIndexChanged.connect(lambda _i: self._relayout())
        self.residual_box = QCheckBox("Residual")
        self.residual_box.setToolTip("Add the nearest image's residual (its code minus its "
                                     "projection): clicking an image then decodes its own code")
        self.residual_box.toggled.connect(lambda _on: self._relayout())
        self.colour_combo = QComboBox()
        self.colour_combo.setToolTip("Colour the points by")
        for key, text in (("label", "Label"), ("error", "Reconstruction error"),
                          ("none", "None")):
            self.colour_combo.addItem(text, key)
        self.colour_combo.currentIndexChanged.connect(lambda _i: self._on_colour_mode())
        self.grid_box = QCheckBox("Decoded grid")
        self.grid_box.setToolTip("Decode an n x n grid over the visible region (updates on "
                                 "zoom and pan). For a VAE shown by its raw codes, the cells "
                                 "hold equal mass of the prior (Gaussian quantiles): smaller "
                                 "where codes are likely")
        self.grid_box.toggled.connect(self._on_grid_toggled)
        self.grid_size = QSpinBox()
        self.grid_size.setRange(4, 32)
        self.grid_size.setValue(16)
        self.grid_size.setToolTip("Images per side of the decoded grid")
        self.grid_size.valueChanged.connect(lambda _v: self._on_range_changed())
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Codes and positions (CSV)…", lambda: self._ask_export_table(".csv"))
        menu.addAction("Codes and positions (NPY)…", lambda: self._ask_export_table(".npy"))
        menu.addAction("Anomalies (CSV)…", self._ask_export_anomalies)
        self.export_button.setMenu(menu)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(QLabel("Layout"))
        bar.addWidget(self.layout_combo)
        self.pc_label = QLabel("x")
        bar.addWidget(self.pc_label)
        bar.addWidget(self.pc_x)
        self.pc_label_y = QLabel("y")
        bar.addWidget(self.pc_label_y)
        bar.addWidget(self.pc_y)
        bar.addWidget(self.residual_box)
        bar.addSpacing(10)
        bar.addWidget(QLabel("Colour"))
        bar.addWidget(self.colour_combo)
        bar.addStretch(1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)

        self.exact_label = QLabel()
        self.exact_label.setToolTip(APPROXIMATE_TIP)
        self.hint = QLabel("Click or drag: decode · Wheel: zoom · Middle-drag or Ctrl+drag: pan "
                           "· Shift+click two points: interpolate")
        self.hint.setStyleSheet("color: palette(mid);")
        for label in (self.exact_label, self.hint):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(10)  # long text is cut, never widens the window
        hint_row = QHBoxLayout()
        hint_row.addWidget(self.exact_label, 1)
        hint_row.addWidget(self.grid_box)
        hint_row.addWidget(self.grid_size)
        hint_row.addWidget(self.export_button)

        # -- interpolation strip
        self.strip = StripView()
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(2, 64)
        self.steps_spin.setValue(10)
        self.steps_spin.setToolTip("Frames, both ends included")
        self.steps_spin.valueChanged.connect(lambda _v: self._run_interpolation())
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("lerp", "lerp")
        self.mode_combo.addItem("slerp", "slerp")
        self.mode_combo.setItemData(1, SLERP_TIP, Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.setToolTip("lerp: straight line (the default). " + SLERP_TIP)
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._run_interpolation())
        self.strip_buttons = []
        strip_bar = QHBoxLayout()
        strip_caption = caption("Interpolation")
        strip_caption.setWordWrap(False)
        strip_bar.addWidget(strip_caption)
        strip_bar.addWidget(QLabel("frames"))
        strip_bar.addWidget(self.steps_spin)
        strip_bar.addWidget(self.mode_combo)
        strip_bar.addStretch(1)
        save_strip_button = QToolButton()
        save_strip_button.setText("Save")
        save_strip_button.setToolTip("Save the frames as a PNG strip, an animated GIF or PNGs")
        save_strip_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        strip_menu = QMenu(save_strip_button)
        strip_menu.addAction("PNG strip…", self._ask_export_strip)
        strip_menu.addAction("Animated GIF…", self._ask_export_gif)
        strip_menu.addAction("Frames as PNGs…", self._ask_export_frames)
        save_strip_button.setMenu(strip_menu)
        clear_button = QPushButton("Clear")
        clear_button.clicked.connect(self.clear_interpolation)
        for button in (save_strip_button, clear_button):
            strip_bar.addWidget(button)
            self.strip_buttons.append(button)

        left = QWidget()
        # Below the controls' natural width the combos narrow rather than the window grow.
        left.setMinimumWidth(300)
        for combo in (self.layout_combo, self.colour_combo):
            combo.setMinimumWidth(70)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(bar)
        left_layout.addWidget(self.map_view, 1)
        left_layout.addLayout(hint_row)
        left_layout.addWidget(self.hint)
        left_layout.addLayout(strip_bar)
        left_layout.addWidget(self.strip)

        # -- legend column
        self.legend = LegendList()
        self.legend.highlight_changed.connect(self._recolour)
        all_button = QPushButton("All")
        all_button.setToolTip("Highlight every label")
        all_button.clicked.connect(lambda: self.legend.set_checked(None))
        none_button = QPushButton("None")
        none_button.setToolTip("Grey every label, then tick the ones to highlight")
        none_button.clicked.connect(lambda: self.legend.set_checked(set()))
        self.summary = QLabel("Open a model and a folder.")
        self.summary.setWordWrap(True)
        legend_box = QWidget()
        legend_layout = QVBoxLayout(legend_box)
        legend_layout.setContentsMargins(0, 0, 0, 0)
        legend_layout.addWidget(caption("Legend"))
        legend_layout.addWidget(self.legend, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(all_button)
        buttons.addWidget(none_button)
        legend_layout.addLayout(buttons)
        legend_layout.addWidget(self.summary)
        legend_box.setMinimumWidth(90)

        # -- side panel: the point, its image, its neighbours; anomalies
        self.decoded_pane = ImagePane(180)
        self.decoded_info = QLabel("Click the map to decode a point.")
        self.decoded_info.setWordWrap(True)
        self.original_pane = ImagePane(84)
        self.recon_pane = ImagePane(84)
        self.nearest_info = QLabel()
        self.nearest_info.setWordWrap(True)
        self.nearest_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.neighbours = ThumbGrid(4)
        self.neighbours.picked.connect(self.select_point)
        point = QWidget()
        point_layout = QVBoxLayout(point)
        point_layout.addWidget(caption("Decoded at the pointer"))
        point_layout.addWidget(self.decoded_pane, 3)
        point_layout.addWidget(self.decoded_info)
        point_layout.addWidget(caption("Nearest image and its reconstruction"))
        pair = QHBoxLayout()
        pair.addWidget(self.original_pane)
        pair.addWidget(self.recon_pane)
        point_layout.addLayout(pair, 2)
        point_layout.addWidget(self.nearest_info)
        point_layout.addWidget(caption(f"{NEIGHBOURS} nearest on the map"))
        point_layout.addWidget(self.neighbours)
        point_layout.addStretch(0)
        self.anomalies = AnomalyList()
        self.anomalies.picked.connect(self.select_point)
        anomaly_export = QPushButton("Export ranking (CSV)…")
        anomaly_export.clicked.connect(self._ask_export_anomalies)
        anomaly_box = QWidget()
        anomaly_layout = QVBoxLayout(anomaly_box)
        anomaly_about = QLabel("Largest reconstruction errors first: images the model finds "
                               "unusual. Click one to show it on the map.")
        anomaly_about.setWordWrap(True)
        anomaly_layout.addWidget(anomaly_about)
        anomaly_layout.addWidget(self.anomalies, 1)
        anomaly_layout.addWidget(anomaly_export)
        self.tabs = QTabWidget()
        self.tabs.addTab(point, "Point")
        self.tabs.addTab(anomaly_box, "Anomalies")
        self.tabs.setMinimumWidth(170)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(legend_box)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([130, 800, 250])
        # In a scroll area: in a small window the explorer scrolls instead of forcing the
        # window to grow.
        inner = QWidget()
        inner_layout = QHBoxLayout(inner)
        inner_layout.setContentsMargins(4, 4, 4, 4)
        inner_layout.addWidget(splitter)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._set_layout_choices(2)

    def _set_layout_choices(self, dim: int) -> None:
        """Enable the layouts this code length and this installation allow."""
        model = self.layout_combo.model()
        status = nonlinear_status()
        for row in range(self.layout_combo.count()):
            key = self.layout_combo.itemData(row)
            tip = ""
            enabled = True
            if key == "codes" and dim > 2:
                enabled, tip = False, f"The codes have {dim} numbers; a map needs PCA, " \
                                      "t-SNE or UMAP."
            elif key in status and status[key] is not None:
                enabled, tip = False, str(status[key])
            elif key in status:
                tip = APPROXIMATE_TIP
            model.item(row).setEnabled(enabled)
            self.layout_combo.setItemData(row, tip or None, Qt.ItemDataRole.ToolTipRole)
        components = max(2, min(dim, 10))
        for combo, default in ((self.pc_x, 0), (self.pc_y, 1)):
            combo.blockSignals(True)
            combo.clear()
            for i in range(components):
                combo.addItem(f"PC{i + 1}", i)
            combo.setCurrentIndex(default)
            combo.blockSignals(False)
        self.layout_combo.blockSignals(True)
        self.layout_combo.setCurrentIndex(0 if dim <= 2 else 1)
        self.layout_combo.blockSignals(False)
        self._update_pca_controls()

    def _update_pca_controls(self) -> None:
        pca = self.layout_combo.currentData() == "pca"
        for w in (self.pc_label, self.pc_x, self.pc_label_y, self.pc_y, self.residual_box):
            w.setVisible(pca)

    def _update_enabled(self) -> None:
        ready = self.latent_map is not None and self.model is not None
        for w in (self.layout_combo, self.colour_combo, self.grid_box, self.grid_size,
                  self.export_button, self.steps_spin, self.mode_combo, *self.strip_buttons):
            w.setEnabled(ready)

    # ================================================================== public API
    def set_model(self, path: str) -> None:
        """Load a model file (in the background), then encode the folder if one is set.

        A map that follows a training run stops following it; when the file fits the
        images in memory (the run's own model file), it takes the map over in place.
        """
        self.model_path = str(path)
        self._handover = self.live.close() or self._handover

        def job(_worker: Worker) -> tuple[Any, float, str]:
            from aestudio.core.models.modelfile import load_model_file
            from aestudio.core.runtime.device import resolve_device

            loaded = load_model_file(path, device=resolve_device("auto"))
            if loaded.model.kind != "autoencoder" or loaded.model.latent_dim is None:
                raise UserError(f"{loaded.name} has no latent code to map")
            return loaded.model, measure_decode_ms(loaded.model), loaded.name

        relay = start_job(self.pool, job, "load model", self)
        relay.succeeded.connect(self._on_model_loaded)
        relay.failed.connect(lambda m, d: self._report("Cannot open the model", m, d))
        self._emit_status(f"loading {Path(path).name}…")

    def set_folder(self, path: str) -> None:
        """Encode this folder with the current model (now, or once a model is loaded)."""
        self.folder = str(path)
        if self.model is not None:
            self._start_encode()

    def set_encoded(self, model: Any, data: FolderCodes, layout: str = "auto",
                    decode_ms: float | None = None) -> None:
        """Show codes computed elsewhere (the model must be the one that made them).

        ``decode_ms``: the time of one decode, when known (else measured here).
        """
        self.model = model
        self.decode_ms = measure_decode_ms(model) if decode_ms is None else decode_ms
        self.sync_decode = self.decode_ms <= SYNC_DECODE_MS
        self.live.forget_shown()
        self._install(data, build_map(data.codes, layout))

    def show_training_snapshot(self, snapshot: Any) -> None:
        """Follow a training run: show the map of these weights soon (about once a second at
        most, only while the explorer is visible, latest snapshot wins).

        Parameters
        ----------
        snapshot : aestudio.ui.training.worker.LiveSnapshot
            The run, step, architecture, image folder and weights.
        """
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
        return self.colour_combo.currentData() == "error" or self.tabs.currentIndex() == 1

    def map_choice(self) -> tuple[str, tuple[int, int], bool]:
        """The layout chosen, its two axes and the PCA residual option."""
        layout = self.layout_combo.currentData()
        axes = (int(self.pc_x.currentData() or 0), int(self.pc_y.currentData() or 0))
        if layout == "codes":
            axes = (0, 1)
        return layout, axes, self.residual_box.isChecked()

    def click_at(self, x: float, y: float, shift: bool = False) -> None:
        """Act as a click on the map at map coordinates (x, y)."""
        modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        self._on_probed(x, y, "click", modifiers)

    def select_point(self, index: int) -> None:
        """Decode at image ``index``'s position, as if it were clicked."""
        if self.latent_map is None:
            return
        x, y = self.latent_map.positions[int(index)]
        self._probe(float(x), float(y), snap=int(index))

    def decoded_image(self) -> np.ndarray | None:
        """The image decoded at the last probed point, (S, S, C) float32, or None."""
        return self.decoded_pane.array

    def probe_code(self) -> np.ndarray | None:
        """The code decoded at the last probed point."""
        return self._probe_code

    def set_layout(self, layout: str, axes: tuple[int, int] = (0, 1),
                   residual: bool = False) -> None:
        """Choose the layout ("codes", "pca", "tsne", "umap") and PCA components."""
        self._select(self.layout_combo, layout)
        self.pc_x.setCurrentIndex(axes[0])
        self.pc_y.setCurrentIndex(axes[1])
        self.residual_box.setChecked(residual)
        self._relayout()

    def set_colour_by(self, mode: str) -> None:
        """Colour by "label", "error" or "none"."""
        self._select(self.colour_combo, mode)

    def set_highlight(self, labels: set[str] | None) -> None:
        """Highlight these labels (others greyed); None highlights all."""
        self.legend.set_checked(labels)

    def set_grid_visible(self, on: bool) -> None:
        self.grid_box.setChecked(on)

    def interpolate_between(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Interpolate between two map points (snapped to images when on one)."""
        self._endpoints = []
        self._add_endpoint(*a)
        self._add_endpoint(*b)

    def interpolation_frames(self) -> np.ndarray | None:
        """The decoded frames (n, S, S, C) of the current interpolation."""
        return self._frames

    def export_table(self, path: str) -> Path:
        """Write codes, positions, paths, labels and errors (.csv or .npy)."""
        data, lm = self._need_data()
        return write_table(path, data.codes, lm.positions, data.paths, data.labels, data.errors)

    def export_anomalies(self, path: str) -> Path:
        data, _ = self._need_data()
        return write_anomalies(path, ranked_by_error(data.errors), data.paths, data.labels,
                               data.errors)

    def export_strip(self, path: str) -> Path:
        return save_strip(self._need_frames(), path)

    def export_gif(self, path: str) -> Path:
        return save_gif(self._need_frames(), path)

    def export_frames(self, folder: str) -> list[Path]:
        return save_frames(self._need_frames(), folder)

    def cancel(self) -> None:
        """Stop encoding or laying out."""
        for relay in (self._encode_relay, self._layout_relay):
            if relay is not None:
                relay.request_stop()

    def shutdown(self) -> None:
        """Ask every job of the explorer to stop (the pool waits for them)."""
        self.cancel()
        self.live.shutdown()
        for jobs in self._job_runners():
            jobs.cancel()

    def _job_runners(self) -> tuple[LatestOnly, ...]:
        return (self.probe_jobs, self.recon_jobs, self.grid_jobs, self.batch_jobs,
                self.knn_jobs)

    def is_busy(self) -> bool:
        return any(j.busy() for j in self._job_runners()) or self._encode_relay is not None \
            or self._layout_relay is not None or self.live.busy()

    def showEvent(self, event: Any) -> None:  # Qt override
        super().showEvent(event)
        self.live.poke()  # snapshots that came while hidden

    # ================================================================== loading
    def _on_model_loaded(self, result: tuple[Any, float, str]) -> None:
        model, decode_ms, name = result
        handover, self._handover = self._handover, False
        if handover and self.live.hand_over(model, decode_ms):
            self.model_name = name
            self._emit_status(f"{name}: the final model takes the map over")
            return
        self.model, self.decode_ms, self.model_name = result
        self.sync_decode = self.decode_ms <= SYNC_DECODE_MS
        self._emit_status(f"{self.model_name}: {self.model.latent_dim}-number code, "
                          f"one decode {self.decode_ms:.1f} ms")
        if self.folder is not None:
            self._start_encode()

    def _start_encode(self) -> None:
        if self._encode_relay is not None:
            self._encode_relay.request_stop()
        model, folder = self.model, self.folder

        def job(worker: Worker) -> tuple[FolderCodes, LatentMap]:
            data = encode_folder(model, folder, stop=worker.stop_event,
                                 progress=lambda s, d, t: worker.emit_event((s, d, t)))
            worker.emit_event(("laying out", 0, 0))
            return data, build_map(data.codes)

        relay = start_job(self.pool, job, "encode folder", self)
        relay.event.connect(self._on_encode_progress)
        relay.succeeded.connect(lambda result: self._install_encoded(*result))
        relay.failed.connect(lambda m, d: self._job_failed(relay, "Cannot encode the folder",
                                                           m, d))
        relay.finished.connect(lambda: self._job_ended(relay))
        self._encode_relay = relay
        self._set_busy(True)

    def _on_encode_progress(self, event: tuple[str, int, int]) -> None:
        stage, done, total = event
        self.progress.setMaximum(max(total, 1) if total else 0)
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage} %v/%m" if total else stage)

    def _job_failed(self, relay: JobRelay, title: str, message: str, details: str) -> None:
        if relay.stop_requested:
            self._emit_status("cancelled")
            return
        self._report(title, message, details)

    def _job_ended(self, relay: JobRelay) -> None:
        if relay is self._encode_relay:
            self._encode_relay = None
        if relay is self._layout_relay:
            self._layout_relay = None
        self._set_busy(self._encode_relay is not None or self._layout_relay is not None)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
        self.busy_changed.emit(busy)

    def _install_encoded(self, data: FolderCodes, latent_map: LatentMap) -> None:
        self.live.forget_shown()
        self._install(data, latent_map)

    def _install(self, data: FolderCodes, latent_map: LatentMap) -> None:
        """New codes: reset the map, legend, side panel and anomalies."""
        self.data = data
        self._pca = latent_map.pca
        self._set_layout_choices(data.latent_dim)
        self._select(self.layout_combo, latent_map.layout)
        self._update_pca_controls()
        self.clear_interpolation()
        self._probe_xy = self._probe_code = self._selected = None
        self._probe_snap = self._neighbour_idx = None
        self.decoded_pane.set_array(None)
        self.original_pane.set_array(None)
        self.recon_pane.set_array(None)
        self.neighbours.clear()
        self._rebuild_legend()
        self._fill_anomalies()
        self._show_map(latent_map, fit=True)

    def _fill_anomalies_if_shown(self) -> None:
        if self._anomalies_stale and self.tabs.currentIndex() == 1:
            self._fill_anomalies()

    def _fill_anomalies(self) -> None:
        data = self.data
        if data is None:
            return
        self._anomalies_stale = False
        top = ranked_by_error(data.errors)[:ANOMALIES_SHOWN]
        texts = [f"{rank}. {data.paths[i]}\nlabel {data.labels[i] or '-'} · "
                 f"MSE {data.errors[i]:.4f}" for rank, i in enumerate(top, start=1)]
        self.anomalies.set_rows(top, data.images_hwc(top), texts)

    # ================================================================== layout
    def _relayout(self) -> None:
        self._update_pca_controls()
        if self.data is None:
            return
        layout = self.layout_combo.currentData()
        axes = (int(self.pc_x.currentData() or 0), int(self.pc_y.currentData() or 0))
        if layout == "codes" and self.data.latent_dim == 2:
            axes = (0, 1)
        if layout == "pca" and axes[0] == axes[1]:
            self._emit_status("choose two different components")
            return
        residual = self.residual_box.isChecked()
        codes, pca = self.data.codes, self._pca
        if layout in ("codes", "pca"):
            # Fast: done here so switching components feels immediate.
            try:
                lm = build_map(codes, layout, axes=axes, add_residual=residual, pca=pca)
            except ValueError as exc:
                self._report("Cannot lay out the codes", str(exc), "")
                return
            self._pca = lm.pca or self._pca
            self._show_map(lm, fit=True)
            self.live.poke()  # a live map waits while a non-linear layout is shown
            return
        if self._layout_relay is not None:
            self._layout_relay.request_stop()

        def job(_worker: Worker) -> LatentMap:
            return build_map(codes, layout)

        relay = start_job(self.pool, job, f"{LAYOUT_NAMES[layout]} layout", self)
        relay.succeeded.connect(lambda lm: self._show_map(lm, fit=True))
        relay.failed.connect(lambda m, d: self._job_failed(relay, "Cannot lay out the codes",
                                                           m, d))
        relay.finished.connect(lambda: self._job_ended(relay))
        self._layout_relay = relay
        self._set_busy(True)
        self.progress.setFormat(f"{LAYOUT_NAMES[layout]}…")
        self._emit_status(f"computing the {LAYOUT_NAMES[layout]} layout of {len(codes):,} codes…")

    def _show_map(self, latent_map: LatentMap, fit: bool = False) -> None:
        self._generation += 1
        self.latent_map = latent_map
        latent_map.index  # noqa: B018  (built now, not on the first hover)
        self.map_view.set_axis_titles(*latent_map.axis_titles())
        self._brushes, self._order = self._colours()
        self.map_view.set_points(latent_map.positions, self._brushes, self._order)
        if fit:
            self.map_view.fit(latent_map.positions)
            self._view_moved = False
        self.exact_label.setText("Exact: a click decodes the code at that point"
                                 if latent_map.exact else
                                 "<b>Approximate</b>: a click decodes a mix of the "
                                 f"{MIX_NEIGHBOURS} nearest codes")
        self.clear_interpolation()
        self._probe_xy = self._probe_snap = self._neighbour_idx = None
        self.map_view.set_marker(None)
        self.map_view.set_neighbours(None)
        self._update_enabled()
        self._update_summary()
        self._request_knn()
        if self.grid_box.isChecked():
            self._request_grid()

    def _update_summary(self) -> None:
        data, lm = self.data, self.latent_map
        if data is None or lm is None:
            return
        live = self.live.summary_line()
        lines = [live] if live else []
        lines += [f"{len(data):,} images", f"{data.latent_dim}-number code",
                 f"layout: {LAYOUT_NAMES[lm.layout]}" + ("" if lm.exact else " (approximate)")]
        if self._knn is not None:
            lines.append(f"5-NN label accuracy: {self._knn:.3f}")
        if self.decode_ms is not None:
            lines.append(f"one decode: {self.decode_ms:.1f} ms")
        self.summary.setText("\n".join(lines))

    def _request_knn(self) -> None:
        self._knn = None
        data, lm = self.data, self.latent_map
        if data is None or lm is None or len(data.label_names) < 2:
            return
        positions, labels = lm.positions, data.label_index
        if len(positions) > KNN_SAMPLE:  # a fixed subset keeps it to a second or two
            keep = np.random.default_rng(0).choice(len(positions), KNN_SAMPLE, replace=False)
            positions, labels = positions[keep], labels[keep]
        self.knn_jobs.request(lambda: knn_label_accuracy(positions, labels, 5), self._generation)

    def _on_knn(self, generation: int, accuracy: float) -> None:
        if generation == self._generation:
            self._knn = accuracy
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
        if self._encode_relay is not None:
            self._encode_relay.request_stop()  # codes of an older model: no longer wanted
        self.model = result.model
        if decode_ms is not None:
            self.decode_ms = decode_ms
            self.sync_decode = decode_ms <= SYNC_DECODE_MS
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
        lm = latent_map
        self.data = data
        self._pca = lm.pca  # a fit of older codes must not be reused
        self._generation += 1  # decodes still running used the previous model: dropped
        titles = lm.axis_titles()
        if self.latent_map is None or self.latent_map.axis_titles() != titles:
            self.map_view.set_axis_titles(*titles)
        self.latent_map = lm
        if self.colour_combo.currentData() == "error":
            self._rebuild_legend()  # the error octiles moved (this legend has no choices)
        self._brushes, self._order = self._colours()
        self.map_view.set_points(lm.positions, self._brushes, self._order)
        if not self._view_moved:
            self.map_view.fit(lm.positions)
        self._anomalies_stale = True
        self._fill_anomalies_if_shown()
        self._follow_selection()
        self._update_enabled()
        self._update_summary()
        self._request_knn()
        if self.grid_box.isChecked():
            self._request_grid()

    def _follow_selection(self) -> None:
        """After the points moved: the selected image keeps its rings, the probe decodes
        again with the new model, and an interpolation is redone between its ends."""
        lm, data = self.latent_map, self.data
        if lm is None or data is None:
            return
        if self._probe_xy is not None:
            snap = self._probe_snap
            xy = (tuple(float(v) for v in lm.positions[snap]) if snap is not None
                  else self._probe_xy)
            self._probe_xy = xy
            self.map_view.set_marker(xy)
            idx = self._neighbour_idx
            if idx is not None:
                self._show_neighbours(idx, np.hypot(*(lm.positions[idx] - xy).T))
                self._show_reconstruction(int(idx[0]))
            code = lm.codes[snap].astype(np.float32) if snap is not None else lm.to_code(xy)
            self._probe_code = code
            self._request_probe_image(xy, code)
        if self._endpoints:
            moved = []
            for xy, _code, snap in self._endpoints:
                if snap is not None:
                    xy = (float(lm.positions[snap][0]), float(lm.positions[snap][1]))
                    moved.append((xy, lm.codes[snap].astype(np.float32), snap))
                else:
                    moved.append((xy, lm.to_code(xy), None))
            self._endpoints = moved
            self.map_view.set_endpoints([e[0] for e in moved])
            self._run_interpolation()

    # ================================================================== colours
    def _error_bins(self) -> tuple[np.ndarray, np.ndarray]:
        """Octile edges of the reconstruction errors and each image's bin."""
        assert self.data is not None
        errors = self.data.errors
        edges = np.quantile(errors, np.linspace(0, 1, len(ERROR_COLOURS) + 1))
        bins = np.clip(np.searchsorted(edges[1:-1], errors, side="right"), 0,
                       len(ERROR_COLOURS) - 1)
        return edges, bins

    def _rebuild_legend(self) -> None:
        """Legend rows for the colouring chosen (all labels highlighted)."""
        data = self.data
        if data is None:
            return
        mode = self.colour_combo.currentData()
        if mode == "label":
            self.legend.set_rows([(name, LABEL_COLOURS[i % len(LABEL_COLOURS)],
                                   f"{name or '(no label)'}  "
                                   f"({int((data.label_index == i).sum()):,})")
                                  for i, name in enumerate(data.label_names)], checkable=True)
        elif mode == "error":
            edges, _ = self._error_bins()
            self.legend.set_rows([(str(i), c, f"MSE {edges[i]:.4f}–{edges[i + 1]:.4f}")
                                  for i, c in enumerate(ERROR_COLOURS)], checkable=False)
        else:
            self.legend.set_rows([], checkable=False)

    def _colours(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-point brushes (a few shared objects) and the drawing order."""
        data = self.data
        assert data is not None
        mode = self.colour_combo.currentData()
        if mode == "label":
            palette = np.array([make_brush(LABEL_COLOURS[i % len(LABEL_COLOURS)], 210)
                                for i in range(len(data.label_names))], dtype=object)
            brushes = palette[data.label_index]
        elif mode == "error":
            _, bins = self._error_bins()
            palette = np.array([make_brush(c, 220) for c in ERROR_COLOURS], dtype=object)
            # Large errors on top: they are what this colouring is for.
            return palette[bins], np.argsort(bins, kind="stable")
        else:
            brushes = np.empty(len(data), dtype=object)
            brushes[:] = make_brush(PLAIN, 160)
        # A fixed shuffled order: drawn in folder order, the last label would cover the rest.
        shuffled = np.random.default_rng(0).permutation(len(data))
        keys = self.legend.checked_keys() if mode == "label" else None
        if keys is None:
            return brushes, shuffled
        chosen = np.isin(np.asarray(data.labels, dtype=str), list(keys))
        grey = np.empty(len(data), dtype=object)
        grey[:] = make_brush(GREY, 140)
        # Greyed points first (underneath), highlighted ones on top.
        return np.where(chosen, brushes, grey), shuffled[np.argsort(chosen[shuffled],
                                                                    kind="stable")]

    def _on_colour_mode(self) -> None:
        self._rebuild_legend()
        self._recolour()

    def _recolour(self) -> None:
        if self.data is None or self.latent_map is None:
            return
        self._brushes, self._order = self._colours()
        self.map_view.set_points(self.latent_map.positions, self._brushes, self._order)

    # ================================================================== probing
    def _on_probed(self, x: float, y: float, phase: str, modifiers: Any) -> None:
        if self.latent_map is None or self.model is None:
            return
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier) if modifiers else False
        if shift and phase == "click":
            self._add_endpoint(x, y)
            return
        self._probe(x, y, snap=None, final=phase != "drag")

    def _near_point(self, x: float, y: float) -> int | None:
        """The image under the pointer (within a few pixels), if any."""
        lm = self.latent_map
        if lm is None:
            return None
        idx, _ = lm.nearest(np.array([x, y]), 1)
        px, py = self.map_view.pixel_size()
        dx, dy = (lm.positions[idx[0]] - (x, y)) / (max(px, 1e-12), max(py, 1e-12))
        return int(idx[0]) if dx * dx + dy * dy <= HOVER_PIXELS**2 else None

    def _probe(self, x: float, y: float, snap: int | None, final: bool = True) -> None:
        lm, data = self.latent_map, self.data
        assert lm is not None and data is not None
        self._probe_xy = (x, y)
        self._probe_snap = snap
        self.map_view.set_marker((x, y))
        code = lm.codes[snap].astype(np.float32) if snap is not None else lm.to_code((x, y))
        self._probe_code = code
        if final or self.sync_decode:
            idx, dist = lm.nearest(np.array([x, y]), NEIGHBOURS)
            self._show_neighbours(idx, dist)
            self._show_reconstruction(int(idx[0]))
        self._request_probe_image((x, y), code)

    def _show_reconstruction(self, index: int) -> None:
        data, model = self.data, self.model
        assert data is not None
        kept = data.reconstruction(index)  # computed while encoding, when it fitted
        self.recon_pane.set_array(kept)
        if kept is None:
            self.recon_jobs.request(lambda: _decode(model, data.codes[index][None])[0],
                                    (index, self._generation))

    def _request_probe_image(self, xy: tuple[float, float], code: np.ndarray) -> None:
        model = self.model
        if self.sync_decode:  # one tiny decode: cheaper here than a trip to a thread
            self._show_probe(xy, code, _decode(model, code[None])[0])
        else:
            self.probe_jobs.request(lambda: _decode(model, code[None])[0],
                                    (xy, code, self._generation))

    def _on_probe_decoded(self, tag: tuple, image: np.ndarray) -> None:
        xy, code, generation = tag
        if generation == self._generation:
            self._show_probe(xy, code, image)

    def _on_recon_decoded(self, tag: tuple, image: np.ndarray) -> None:
        first, generation = tag
        if generation == self._generation and first == self._selected:
            self.recon_pane.set_array(image)

    def _show_probe(self, xy: tuple[float, float], code: np.ndarray, image: np.ndarray) -> None:
        self.decoded_pane.set_array(image)
        lm = self.latent_map
        shown = ", ".join(f"{v:.3g}" for v in code[:6]) + (" …" if len(code) > 6 else "")
        how = "exact" if lm is not None and lm.exact else "approximate (mix of nearest codes)"
        self.decoded_info.setText(f"map ({xy[0]:.3g}, {xy[1]:.3g}) · {how}\nz = ({shown})")

    def _show_neighbours(self, idx: np.ndarray, dist: np.ndarray) -> None:
        """The nearest image (original), its neighbours' thumbnails and their ring marks."""
        lm, data = self.latent_map, self.data
        if lm is None or data is None:
            return
        self.map_view.set_neighbours(lm.positions[idx])
        self._neighbour_idx = np.asarray(idx)
        first = int(idx[0])
        self._selected = first
        self.original_pane.set_array(data.image(first))
        self.nearest_info.setText(f"{data.paths[first]}\nlabel {data.labels[first] or '-'} · "
                                  f"MSE {data.errors[first]:.4f} · distance {dist[0]:.3g}")
        tips = [f"{data.paths[i]} (label {data.labels[i] or '-'})" for i in idx]
        self.neighbours.set_images(data.images_hwc(idx), [int(i) for i in idx], tips)

    # ================================================================== hover
    def _on_hovered(self, x: float, y: float, wx: float, wy: float) -> None:
        data = self.data
        i = self._near_point(x, y) if data is not None else None
        if i is None or data is None or self.latent_map is None:
            self._on_left()
            return
        self.map_view.set_hover(tuple(self.latent_map.positions[i]))
        from PySide6.QtCore import QPointF

        self.map_view.card.show_at(QPointF(wx, wy), data.image(i),
                                   f"{data.labels[i] or '-'} · {Path(data.paths[i]).name}")

    def _on_left(self) -> None:
        self.map_view.set_hover(None)
        self.map_view.card.hide()

    # ================================================================== grid
    def _on_grid_toggled(self, on: bool) -> None:
        if on:
            self._request_grid()
        else:
            self.grid_jobs.cancel()
            self.map_view.set_grid_image(None)

    def _on_range_changed(self) -> None:
        if self.grid_box.isChecked():
            self._grid_timer.start()

    def _request_grid(self) -> None:
        lm, model = self.latent_map, self.model
        if lm is None or model is None or not self.grid_box.isChecked():
            return
        xr, yr = self.map_view.visible_range()
        n = self.grid_size.value()
        spacing = self.grid_spacing()

        def job() -> np.ndarray:
            tiles = _decode(model, grid_codes(lm, xr, yr, n, spacing))
            if spacing == "uniform":
                return grid_mosaic(tiles, n)
            return grid_mosaic(tiles, n, grid_cells(*xr, n, spacing)[1],
                               grid_cells(*yr, n, spacing)[1])

        rect = QRectF(xr[0], yr[0], xr[1] - xr[0], yr[1] - yr[0])
        self.grid_jobs.request(job, (rect, self._generation))

    def grid_spacing(self) -> str:
        """"prior" for a VAE shown by its raw codes (cells of equal prior mass), else
        "uniform"."""
        lm = self.latent_map
        vae = getattr(self.model, "registry_name", "") == "vae"
        return "prior" if vae and lm is not None and lm.layout == "codes" else "uniform"

    def _on_grid_decoded(self, tag: tuple, mosaic: np.ndarray) -> None:
        rect, generation = tag
        if generation == self._generation and self.grid_box.isChecked():
            self.map_view.set_grid_image(mosaic, rect)

    # ================================================================== interpolation
    def _add_endpoint(self, x: float, y: float) -> None:
        lm = self.latent_map
        if lm is None:
            return
        snap = self._near_point(x, y)
        if snap is not None:
            x, y = (float(v) for v in lm.positions[snap])
            code = lm.codes[snap].astype(np.float32)
        else:
            code = lm.to_code((x, y))
        if len(self._endpoints) >= 2:
            self._endpoints = []
        self._endpoints.append(((x, y), code, snap))
        self.map_view.set_endpoints([e[0] for e in self._endpoints])
        if len(self._endpoints) == 2:
            self._run_interpolation()
        else:
            self._emit_status("Shift+click a second point to interpolate")

    def _run_interpolation(self) -> None:
        if len(self._endpoints) != 2 or self.model is None or self.latent_map is None:
            return
        (a_xy, a, _), (b_xy, b, _) = self._endpoints
        steps, mode, model, lm = (self.steps_spin.value(), self.mode_combo.currentData(),
                                  self.model, self.latent_map)

        def job() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            from aestudio.core.latent.interpolation import interpolate

            codes = interpolate(a, b, steps, mode).numpy()
            frames = _decode(model, codes)  # one batch
            path = lm.to_map(codes)
            if path is None:  # non-linear layouts: the straight segment between the ends
                t = np.linspace(0, 1, steps)[:, None]
                path = (1 - t) * np.asarray(a_xy) + t * np.asarray(b_xy)
            return frames, codes, path

        self.batch_jobs.request(job, self._generation)

    def _on_interpolated(self, generation: int, result: tuple) -> None:
        if generation != self._generation or len(self._endpoints) != 2:
            return
        self._frames, self._frame_codes, path = result
        self.strip.set_frames(self._frames)
        self.map_view.set_path(path)
        self._emit_status(f"interpolated {len(self._frames)} frames "
                          f"({self.mode_combo.currentData()})")

    def clear_interpolation(self) -> None:
        self._endpoints = []
        self._frames = self._frame_codes = None
        self.strip.set_frames(None)
        self.map_view.set_path(None)
        self.map_view.set_endpoints([])

    # ================================================================== export dialogs
    def _need_data(self) -> tuple[FolderCodes, LatentMap]:
        if self.data is None or self.latent_map is None:
            raise UserError("nothing to export yet: open a model and a folder")
        return self.data, self.latent_map

    def _need_frames(self) -> np.ndarray:
        if self._frames is None:
            raise UserError("no interpolation yet: Shift+click two points")
        return self._frames

    def _save_dialog(self, title: str, name: str, filters: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, name, filters)
        return path or None

    def _guarded(self, title: str, action: Any, *args: Any) -> None:
        try:
            result = action(*args)
        except (OSError, ValueError) as exc:
            self._report(title, str(exc), "")
        else:
            self._emit_status(f"wrote {result if not isinstance(result, list) else args[0]}")

    def _ask_export_table(self, suffix: str) -> None:
        kind = "CSV (*.csv)" if suffix == ".csv" else "NumPy (*.npy)"
        path = self._save_dialog("Export codes and positions", f"latent_codes{suffix}", kind)
        if path:
            self._guarded("Cannot export", self.export_table, path)

    def _ask_export_anomalies(self) -> None:
        path = self._save_dialog("Export the error ranking", "anomalies.csv", "CSV (*.csv)")
        if path:
            self._guarded("Cannot export", self.export_anomalies, path)

    def _ask_export_strip(self) -> None:
        path = self._save_dialog("Export the strip", "interpolation.png", "PNG (*.png)")
        if path:
            self._guarded("Cannot export", self.export_strip, path)

    def _ask_export_gif(self) -> None:
        path = self._save_dialog("Export an animated GIF", "interpolation.gif", "GIF (*.gif)")
        if path:
            self._guarded("Cannot export", self.export_gif, path)

    def _ask_export_frames(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the frames")
        if folder:
            self._guarded("Cannot export", self.export_frames, folder)

    # ================================================================== helpers
    @staticmethod
    def _select(combo: QComboBox, key: str) -> None:
        row = combo.findData(key)
        if row < 0:
            raise ValueError(f"unknown choice {key!r}")
        combo.setCurrentIndex(row)

    def _emit_status(self, text: str) -> None:
        self.status.emit(text)

    def _report(self, title: str, message: str, details: str) -> None:
        self._emit_status(f"{title}: {message}")
        box = error_box(self, title, message, details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): a dialog must not block the event loop (or a test)


def _decode(model: Any, codes: np.ndarray) -> np.ndarray:
    """``inference.decode``, imported on first use: torch stays out of the app's start-up."""
    from aestudio.core.models import inference

    return inference.decode(model, codes)


def measure_decode_ms(model: Any, repeats: int = 7) -> float:
    """Time of one single-code decode in milliseconds: the best of a few after a warm-up.

    The best, not the median: on a busy machine the median measures the other programs.
    """
    z = np.zeros((1, model.latent_dim), np.float32)
    _decode(model, z)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _decode(model, z)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.min(times))
