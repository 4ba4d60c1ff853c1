"""The compare view: noisy, denoised and clean side by side with linked zoom and pan.

Open an image and a model (buttons or drag and drop) and the view denoises the image at full
resolution in the background, the part on screen first (:mod:`aestudio.ui.denoise.compare_tiles`).
Modes: side by side (input | denoised | clean reference when there is one), a split view
with a draggable divider, and a residual view (input minus denoised, amplified) that shows
structure a denoiser invented or removed. The Amount slider mixes the input back in. On a
clean image, synthetic noise can be added on the fly; PSNR and SSIM are then shown against
the clean image (or against a reference file the user opens).

An autoencoder model works at its training size: the view then shows the image resized to
that size beside its reconstruction, and says so.

Importing this module does not import torch: the engine is loaded by the jobs, in their
worker threads, so the window can open first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aestudio.core.errors import UserError
from aestudio.core.io.convert import from_float, to_float
from aestudio.core.io.formats import IMAGE_SUFFIXES, ImageInfo
from aestudio.core.io.read import read_image
from aestudio.ui.common.errors import first_line, open_error
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.denoise.compare_canvas import ImageCanvas, ImagePane, SplitPane, ViewLink
from aestudio.ui.denoise.compare_controls import (
    FlowLayout,
    LabeledSlider,
    NoiseControl,
    format_spec,
    split_spec,
)
from aestudio.ui.denoise.compare_render import blend, residual
from aestudio.ui.denoise.compare_tiles import (
    DEFAULT_REGION,
    AllDone,
    Focus,
    NoisyReady,
    Region,
    RegionDone,
    compare_job,
    focus_order,
    metrics_job,
)

if TYPE_CHECKING:
    from aestudio.core.models.modelfile import LoadedModel

MODEL_SUFFIX = ".aemodel"  # core.modelfile.MODEL_SUFFIX, without importing torch here
MODES = ("side", "split", "residual")
MIN_WIDTH, MIN_HEIGHT = 320, 240
RENDER_SLICE_S = 0.015  # redraw work per event-loop turn after a slider moved
_MODE_NAMES = {"side": "Side by side", "split": "Split", "residual": "Residual"}
IMAGE_FILTER = "Images ({})".format(" ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)))
MODEL_FILTER = f"aestudio models (*{MODEL_SUFFIX})"




def describe_image(path: str | Path, info: ImageInfo) -> str:
    """``name · 481 × 321 · RGB · 8-bit`` for the status line."""
    colour = "gray" if info.channels == 1 else "RGB"
    return f"{Path(path).name} · {info.width} × {info.height} · {colour} · {info.bit_depth}-bit"


def describe_model(path: str | Path, loaded: LoadedModel) -> str:
    """``name · denoiser (unet, width 32, depth 3) · trained on gaussian:25``."""
    meta = loaded.meta
    config = meta.get("model_config") or {}
    parts = [f"{k} {config[k]}" for k in ("width", "depth", "latent_dim", "image_size")
             if k in config]
    arch = config.get("arch")
    details = ", ".join(([str(arch)] if arch else []) + parts)
    text = f"{Path(path).name} · {meta.get('architecture', '?')}"
    if details:
        text += f" ({details})"
    train = meta.get("train") or {}
    if train.get("task") and train.get("task") != "reconstruct" and train.get("noise"):
        text += f" · trained on {train['noise']}"
    return text


def _load_image_job(path: str):
    def job(worker: Worker) -> tuple[np.ndarray, ImageInfo]:
        return read_image(path)

    return job


def _load_reference_job(path: str, shape: tuple[int, ...], dtype: np.dtype):
    """Read a clean reference and bring it to the image's channels and dtype."""

    def job(worker: Worker) -> np.ndarray:
        from aestudio.core.models.inference import match_channels

        array, _ = read_image(path)
        if array.shape[:2] != shape[:2]:
            h, w = array.shape[:2]
            raise UserError(f"the reference is {w} × {h} pixels but the image is "
                             f"{shape[1]} × {shape[0]}")
        array = match_channels(array, shape[2])
        if array.dtype != dtype:
            array = from_float(to_float(array), dtype)
        return array

    return job


def _load_model_job(path: str):
    def job(worker: Worker) -> LoadedModel:
        from aestudio.core.models.modelfile import load_model_file
        from aestudio.core.runtime.device import resolve_device

        return load_model_file(path, device=resolve_device("auto"))

    return job


def _group(*widgets: QWidget) -> QWidget:
    """Widgets kept side by side on one line of a flow layout."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    for widget in widgets:
        layout.addWidget(widget)
    return box


def _flow_widget(layout: FlowLayout) -> QWidget:
    box = QWidget()
    box.setLayout(layout)
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    box.setSizePolicy(policy)
    return box


def _pane_box(title: QLabel, pane: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(3)
    layout.addWidget(title)
    layout.addWidget(pane, 1)
    return box


class CompareView(QWidget):
    """Compare an image with its denoised version: linked panes, split, residual, metrics.

    Parameters
    ----------
    pool : WorkerPool
        Runs the loading, denoising and scoring jobs.
    parent : QWidget, optional
    """

    image_loaded = Signal(str)
    model_loaded = Signal(str)
    denoise_finished = Signal(float)  # seconds
    metrics_changed = Signal(object)  # dict of scores
    error_occurred = Signal(str, str)  # title, one-line message

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.region_size = DEFAULT_REGION
        self.focus = Focus()
        self.loaded: LoadedModel | None = None
        self.model_path: str | None = None
        self.image: np.ndarray | None = None
        self.image_info: ImageInfo | None = None
        self.image_path: str | None = None
        self.reference_image: np.ndarray | None = None
        self.reference_path: str | None = None
        self.noise = "none"
        self.seed = 0
        self.mode = "side"
        self.amount = 1.0
        self.luma = 1.0
        self.chroma = 1.0
        self.gain = 3.0  # sigma-25 noise stays inside the grey range; raise it for faint grain
        self.scores: dict[str, float] = {}
        # The current generation's data (see compare_tiles).
        self._generation = 0
        self._relay: JobRelay | None = None
        self._loads: list[JobRelay] = []
        self._metrics_relay: JobRelay | None = None
        self._metrics_generation = 0
        self._noisy: np.ndarray | None = None
        self._reference: np.ndarray | None = None
        self._denoised: np.ndarray | None = None
        self._regions: tuple[Region, ...] = ()
        self._done: dict[int, Region] = {}
        self._complete = False
        self._started = 0.0
        self._model_size: int | None = None
        self._shape: tuple[int, ...] | None = None
        self._fit_next = True
        self._error_boxes: list[QMessageBox] = []
        self._build()
        # An explicit minimum lets the main window shrink below the rows of controls (they
        # are then clipped) instead of the view deciding how small the window may be.
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.setAcceptDrops(True)
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(40)
        self._render_timer.timeout.connect(self._rerender)
        # Redrawing a large image after a slider moved is spread over event-loop turns,
        # the part on screen first, so the window never freezes.
        self._dirty: list[Region] = []
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(0)
        self._drain_timer.timeout.connect(self._drain)
        self._update_controls()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.noisy_canvas = ImageCanvas(self)
        self.output_canvas = ImageCanvas(self)
        self.residual_canvas = ImageCanvas(self)
        self.reference_canvas = ImageCanvas(self)
        self.noisy_canvas.placeholder = ("Drop an image here, or use Open image.\n"
                                         "Drop a model file (.aemodel) to denoise it.")
        self.output_canvas.placeholder = "Open a model (.aemodel) to denoise the image."
        self.panes = {
            "noisy": ImagePane([self.noisy_canvas]),
            "output": ImagePane([self.output_canvas]),
            "reference": ImagePane([self.reference_canvas]),
            "residual": ImagePane([self.residual_canvas]),
            "split": SplitPane(self.noisy_canvas, self.output_canvas, ("Input", "Denoised")),
        }
        self.link = ViewLink(self)
        for pane in self.panes.values():
            self.link.add(pane)
        self.link.changed.connect(self._on_view_changed)

        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)

        # Rows of controls flow onto more lines in a narrow window (beside docked panels).
        top = FlowLayout(spacing=14)
        self.open_image_button = QPushButton("Open image…")
        self.open_image_button.setToolTip("Open a photo or scan (PNG, JPEG, TIFF, 8 or 16 bit). "
                                          "You can also drop it onto the view.")
        self.open_image_button.clicked.connect(self._choose_image)
        self.open_model_button = QPushButton("Open model…")
        self.open_model_button.setToolTip("Open a trained model file (.aemodel); no retraining "
                                          "is needed to denoise new images.")
        self.open_model_button.clicked.connect(self._choose_model)
        self.reference_button = QPushButton("Reference…")
        self.reference_button.setToolTip("Open the clean version of this image, to score the "
                                         "result with PSNR and SSIM.")
        self.reference_button.clicked.connect(self._choose_reference)
        self.clear_reference_button = QToolButton()
        self.clear_reference_button.setText("✕")
        self.clear_reference_button.setToolTip("Forget the reference image")
        self.clear_reference_button.clicked.connect(lambda: self.set_reference(None))
        top.addWidget(_group(self.open_image_button, self.open_model_button,
                             self.reference_button, self.clear_reference_button))
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_buttons: dict[str, QToolButton] = {}
        tips = {
            "side": "The input, the denoised image and the clean reference side by side.",
            "split": "One image with a divider: input on the left, denoised on the right. "
                     "Drag the divider.",
            "residual": "What the model removed (input minus denoised), amplified. Edges or "
                        "texture here mean the model removed or invented detail.",
        }
        mode_buttons = []
        for mode in MODES:
            button = QToolButton()
            button.setText(_MODE_NAMES[mode])
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            mode_buttons.append(button)
        self.mode_buttons["side"].setChecked(True)
        top.addWidget(_group(*mode_buttons))
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show the whole image (Ctrl+0)")
        self.fit_button.clicked.connect(self.fit)
        self.one_button = QToolButton()
        self.one_button.setText("1:1")
        self.one_button.setToolTip("One image pixel per screen pixel, to judge grain (Ctrl+1)")
        self.one_button.clicked.connect(self.one_to_one)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("6400%"))
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(_group(self.fit_button, self.one_button, self.zoom_label))
        root.addWidget(_flow_widget(top))
        for keys, slot in (("Ctrl+0", self.fit), ("Ctrl+1", self.one_to_one)):
            shortcut = QShortcut(QKeySequence(keys), self, slot)
            # Only while this view has focus: other tabs may use the same keys.
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        controls = FlowLayout(spacing=16)
        self.amount_slider = LabeledSlider("Amount", 0, 100, 100)
        self.amount_slider.setToolTip("How much of the denoising to apply: 0% shows the input, "
                                      "100% the model's output.")
        self.amount_slider.valueChanged.connect(lambda v: self.set_amount(v / 100))
        controls.addWidget(self.amount_slider)
        self.luma_slider = LabeledSlider("Luma", 0, 100, 100)
        self.luma_slider.setToolTip("Strength on brightness noise; lower it to keep film grain.")
        self.chroma_slider = LabeledSlider("Chroma", 0, 100, 100)
        self.chroma_slider.setToolTip("Strength on colour noise (blotches of colour).")
        self.luma_slider.valueChanged.connect(lambda v: self.set_film_strengths(luma=v / 100))
        self.chroma_slider.valueChanged.connect(
            lambda v: self.set_film_strengths(chroma=v / 100))
        controls.addWidget(self.luma_slider)
        controls.addWidget(self.chroma_slider)
        self.gain_slider = LabeledSlider("Gain", 1, 32, int(self.gain), suffix="×")
        self.gain_slider.setToolTip("Amplification of the residual; grey means nothing removed.")
        self.gain_slider.valueChanged.connect(lambda v: self.set_residual_gain(float(v)))
        controls.addWidget(self.gain_slider)
        self.noise_control = NoiseControl()
        self.noise_control.changed.connect(self._on_noise_control)
        controls.addWidget(self.noise_control)
        root.addWidget(_flow_widget(controls))

        status = FlowLayout(spacing=16)
        self.image_label = QLabel("No image")
        self.image_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_label = QLabel("No model")
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(self.progress.fontMetrics().horizontalAdvance(
            "Denoising 9999/9999") + 24)
        self.progress.setFormat("Denoising %v/%m")
        self.progress.setToolTip("The part on screen is denoised first; pan to move it.")
        self.progress.setVisible(False)
        self.state_label = QLabel("")
        self.metrics_label = QLabel("")
        self.metrics_label.setToolTip("PSNR (dB, higher is better) and SSIM (1 is identical) "
                                      "against the clean image; the input's own scores in "
                                      "brackets.")
        for w in (self.image_label, self.model_label, self.progress, self.state_label,
                  self.metrics_label):
            status.addWidget(w)
        root.addWidget(_flow_widget(status))

        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(
            "QLabel { background: rgba(255, 196, 0, 40); border: 1px solid rgba(200, 150, 0, "
            "120); border-radius: 4px; padding: 4px 8px; }")
        self.note_label.setVisible(False)
        root.addWidget(self.note_label)

        panes = QHBoxLayout()
        panes.setSpacing(6)
        self.titles = {name: QLabel() for name in self.panes}
        self.boxes: dict[str, QWidget] = {}
        for name, pane in self.panes.items():
            title = self.titles[name]
            font = title.font()
            font.setBold(True)
            title.setFont(font)
            self.boxes[name] = _pane_box(title, pane)
            panes.addWidget(self.boxes[name], 1)
        root.addLayout(panes, 1)

    # ------------------------------------------------------------------ public API

    def set_model(self, path: str) -> None:
        """Load a model file in the background; the image is then denoised with it."""
        path = str(path)
        self.state_label.setText("Loading model…")
        relay = start_job(self.pool, _load_model_job(path), "Loading model", parent=self)
        self._loads.append(relay)
        relay.succeeded.connect(lambda loaded, p=path: self._model_ready(p, loaded))
        relay.failed.connect(lambda m, d: self._report_error("Cannot open the model", m, d))
        relay.finished.connect(lambda r=relay: self._load_finished(r))

    def open_image(self, path: str) -> None:
        """Read an image (8 or 16 bit, gray or colour) in the background and show it."""
        path = str(path)
        self.state_label.setText("Reading image…")
        relay = start_job(self.pool, _load_image_job(path), "Reading image", parent=self)
        self._loads.append(relay)
        relay.succeeded.connect(lambda result, p=path: self._image_ready(p, *result))
        relay.failed.connect(lambda m, d: self._report_error("Cannot open the image", m, d))
        relay.finished.connect(lambda r=relay: self._load_finished(r))

    def set_reference(self, path: str | None) -> None:
        """Use a clean image of the same size as the reference for PSNR/SSIM (None: forget it)."""
        if path is None:
            self.reference_image, self.reference_path = None, None
            self._restart()
            return
        if self.image is None:
            self._report_error("Cannot use the reference", "Open the noisy image first.")
            return
        path = str(path)
        job = _load_reference_job(path, self.image.shape, self.image.dtype)
        relay = start_job(self.pool, job, "Reading reference", parent=self)
        self._loads.append(relay)
        relay.succeeded.connect(lambda array, p=path: self._reference_ready(p, array))
        relay.failed.connect(lambda m, d: self._report_error("Cannot open the reference", m, d))
        relay.finished.connect(lambda r=relay: self._load_finished(r))

    def set_noise(self, spec: str, seed: int | None = None) -> None:
        """Add synthetic noise (a ``core.noise`` spec, ``"none"`` for none) to the image."""
        kind, values = split_spec(spec)
        spec = format_spec(kind, values)
        if seed is not None:
            self.noise_control.seed = int(seed)
        self.noise_control.blockSignals(True)
        self.noise_control.set_spec(spec)
        self.noise_control.blockSignals(False)
        self._apply_noise(spec, self.noise_control.seed)

    def set_mode(self, mode: str) -> None:
        """Show ``"side"`` by side, ``"split"`` or ``"residual"`` panes."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self._update_panes()
        # Bring the newly shown panes to the region the user was looking at.
        QTimer.singleShot(0, self.link.sync_from)

    def set_amount(self, amount: float) -> None:
        """Blend: 0 shows the input, 1 the model's output."""
        self.amount = min(max(float(amount), 0.0), 1.0)
        value = round(self.amount * 100)
        if self.amount_slider.value() != value:
            self.amount_slider.setValue(value)  # comes back here once, with the same value
        self._update_titles()
        self._schedule_render()

    def set_residual_gain(self, gain: float) -> None:
        """Amplification of the residual view."""
        self.gain = max(float(gain), 0.1)
        self._update_titles()
        self._schedule_render()

    def fit(self) -> None:
        """Show the whole image in every pane."""
        pane = self._lead_pane()
        pane.fit()

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, keeping the centre."""
        pane = self._lead_pane()
        pane.set_view(pane.center(), pane.one_to_one_zoom())

    def is_busy(self) -> bool:
        """True while loading or denoising."""
        running = self._relay is not None and not self._relay.done
        return running or any(not r.done for r in self._loads)

    def is_complete(self) -> bool:
        """True when the whole image has been denoised."""
        return self._complete

    def visible_panes(self) -> list[str]:
        return [name for name, box in self.boxes.items() if not box.isHidden()]

    def denoised_array(self) -> np.ndarray | None:
        """The model's output (before blending) in the image's dtype, once complete."""
        if not self._complete or self._denoised is None or self.image is None:
            return None
        return from_float(self._denoised, self.image.dtype)

    def shutdown(self) -> None:
        """Ask every job of this view to stop (the pool waits for them on exit)."""
        for relay in [self._relay, self._metrics_relay, *self._loads]:
            if relay is not None and not relay.done:
                relay.request_stop()

    # ------------------------------------------------------------------ loading

    def _load_finished(self, relay: JobRelay) -> None:
        if relay in self._loads:
            self._loads.remove(relay)
        if not self.is_busy() and self.state_label.text().endswith("…"):
            self.state_label.setText("")

    def _model_ready(self, path: str, loaded: LoadedModel) -> None:
        old_kind = self.loaded.model.kind if self.loaded is not None else None
        self.loaded, self.model_path = loaded, path
        self.model_label.setText(describe_model(path, loaded))
        self.model_label.setToolTip(path)
        if loaded.model.kind != old_kind:
            self._fit_next = True
        self.model_loaded.emit(path)
        self._restart()

    def _image_ready(self, path: str, array: np.ndarray, info: ImageInfo) -> None:
        self.image, self.image_info, self.image_path = array, info, path
        self.reference_image, self.reference_path = None, None  # it belonged to the old image
        self.image_label.setText(describe_image(path, info))
        self.image_label.setToolTip(path)
        self._fit_next = True
        self.image_loaded.emit(path)
        self._restart()

    def _reference_ready(self, path: str, array: np.ndarray) -> None:
        if self.image is None or array.shape != self.image.shape:
            return  # another image was opened meanwhile
        self.reference_image, self.reference_path = array, path
        self._restart()

    def _report_error(self, title: str, message: str, details: str = "") -> None:
        message = first_line(message)
        self.error_occurred.emit(title, message)
        open_error(self, title, message, details, self._error_boxes)
        if self.state_label.text().endswith("…"):
            self.state_label.setText("")

    # ------------------------------------------------------------------ the denoising job

    def _on_noise_control(self, spec: str) -> None:
        self._apply_noise(spec, self.noise_control.seed)

    def _apply_noise(self, spec: str, seed: int) -> None:
        if spec == self.noise and seed == self.seed:
            return
        self.noise, self.seed = spec, seed
        self._restart()

    def _restart(self) -> None:
        """Start over with the current image, model, noise and reference; latest wins."""
        self._generation += 1
        if self._relay is not None and not self._relay.done:
            self._relay.request_stop()
        self._relay = None
        self._complete = False
        self._done.clear()
        self._dirty.clear()
        self.scores = {}
        self.metrics_label.setText("")
        self._update_controls()
        if self.image is None:
            return
        self._started = time.perf_counter()
        job = compare_job(self._generation, self.loaded, self.image,
                          reference=self.reference_image, noise=self.noise, seed=self.seed,
                          focus=self.focus, region_size=self.region_size)
        relay = start_job(self.pool, job, "Denoising", parent=self)
        relay.event.connect(self._on_job_event)
        relay.failed.connect(lambda m, d, g=self._generation: self._job_failed(g, m, d))
        relay.finished.connect(self._update_controls)
        self._relay = relay
        self.state_label.setText("")

    def _job_failed(self, generation: int, message: str, details: str) -> None:
        if generation == self._generation:
            self.progress.setVisible(False)
            self._report_error("Denoising failed", message, details)

    def _on_job_event(self, event: Any) -> None:
        if getattr(event, "generation", None) != self._generation:
            return  # from a request that was replaced
        if isinstance(event, NoisyReady):
            self._on_noisy_ready(event)
        elif isinstance(event, RegionDone):
            self._on_region_done(event)
        elif isinstance(event, AllDone):
            self._on_all_done(event)

    def _on_noisy_ready(self, event: NoisyReady) -> None:
        self._noisy, self._reference = event.noisy, event.reference
        self._regions = event.regions
        self._model_size = event.model_size
        self._denoised = np.zeros_like(event.noisy) if event.regions else None
        self.noisy_canvas.set_array(event.noisy)
        if self.loaded is None:
            self.output_canvas.clear("Open a model (.aemodel) to denoise the image.")
            self.residual_canvas.clear("Open a model to see what it removes.")
        else:
            pending = [r.rect for r in event.regions]
            self.output_canvas.set_array(event.noisy)
            self.output_canvas.set_pending(pending)
            self.residual_canvas.set_array(np.full_like(event.noisy, 0.5))
            self.residual_canvas.set_pending(pending)
            self.progress.setRange(0, len(event.regions))
            self.progress.setValue(0)
            self.progress.setVisible(len(event.regions) > 1)
        if event.reference is not None:
            self.reference_canvas.set_array(event.reference)
        else:
            self.reference_canvas.clear()
        self._update_panes()
        if self._fit_next or self._shape != event.noisy.shape:
            self._fit_next = False
            self._shape = event.noisy.shape
            QTimer.singleShot(0, self.fit)
        self._update_focus()
        if self.loaded is None:
            self._update_metrics()

    def _on_region_done(self, event: RegionDone) -> None:
        if self._denoised is None or self._noisy is None:
            return
        r = event.region
        self._denoised[r.y:r.y + r.h, r.x:r.x + r.w] = event.pixels
        self._done[r.index] = r
        self._render_region(r)
        self.output_canvas.mark_done(r.rect)
        self.residual_canvas.mark_done(r.rect)
        self.progress.setValue(len(self._done))

    def _on_all_done(self, event: AllDone) -> None:
        self._complete = True
        self.progress.setVisible(False)
        self.state_label.setText(f"Denoised in {event.seconds:.1f} s")
        self._update_metrics()
        self.denoise_finished.emit(event.seconds)

    # ------------------------------------------------------------------ rendering

    def set_film_strengths(self, luma: float | None = None, chroma: float | None = None) -> None:
        """Strengths (0..1) of the brightness and the colour correction, for film scans."""
        if luma is not None:
            self.luma = min(max(float(luma), 0.0), 1.0)
            self.luma_slider.setValue(round(self.luma * 100))
        if chroma is not None:
            self.chroma = min(max(float(chroma), 0.0), 1.0)
            self.chroma_slider.setValue(round(self.chroma * 100))
        self._update_titles()
        self._schedule_render()

    def _schedule_render(self) -> None:
        self._render_timer.start()

    def _blend(self, noisy: np.ndarray, denoised: np.ndarray) -> np.ndarray:
        return blend(noisy, denoised, self.amount, self.luma, self.chroma)

    def _render_region(self, r: Region) -> None:
        assert self._noisy is not None and self._denoised is not None
        noisy = self._noisy[r.y:r.y + r.h, r.x:r.x + r.w]
        output = self._blend(noisy, self._denoised[r.y:r.y + r.h, r.x:r.x + r.w])
        self.output_canvas.set_patch(r.x, r.y, output)
        self.residual_canvas.set_patch(r.x, r.y, residual(noisy, output, self.gain))

    def _rerender(self) -> None:
        """Redraw every finished region after the amount, strengths or gain changed."""
        if self._noisy is None or self._denoised is None:
            return
        self._dirty = focus_order(list(self._done.values()), self.focus.get())
        self._drain()

    def _drain(self) -> None:
        deadline = time.perf_counter() + RENDER_SLICE_S
        while self._dirty and time.perf_counter() < deadline:
            self._render_region(self._dirty.pop(0))
        if self._dirty:
            self._drain_timer.start()
        elif self._complete:
            self._update_metrics()

    def is_rendered(self) -> bool:
        """True when the panes show the current amount, strengths and gain everywhere."""
        return not self._dirty and not self._render_timer.isActive()

    def output_array(self) -> np.ndarray | None:
        """The shown result (blended by Amount) as float (H, W, C), once complete."""
        if not self._complete or self._noisy is None or self._denoised is None:
            return None
        return self._blend(self._noisy, self._denoised)

    def _update_metrics(self) -> None:
        if self._reference is None or self._noisy is None:
            return
        denoised = None
        if self.loaded is not None:
            if not self._complete or self._denoised is None:
                return
            denoised = self._denoised
        if self._metrics_relay is not None and not self._metrics_relay.done:
            self._metrics_relay.request_stop()
        self._metrics_generation += 1
        bits = self.image_info.bit_depth if self.image_info is not None else 8
        job = metrics_job(self._metrics_generation, self._noisy, denoised, self._reference,
                          bits, amount=self.amount, luma=self.luma, chroma=self.chroma)
        relay = start_job(self.pool, job, "Scoring", parent=self)
        relay.succeeded.connect(self._metrics_ready)
        self._metrics_relay = relay

    def _metrics_ready(self, result: tuple[int, dict[str, float]]) -> None:
        generation, scores = result
        if generation != self._metrics_generation:
            return
        self.scores = scores
        text = f"PSNR {scores['psnr']:.2f} dB"
        if "ssim" in scores:
            text += f" · SSIM {scores['ssim']:.3f}"
        noisy = f"input {scores['noisy_psnr']:.2f} dB"
        if "noisy_ssim" in scores:
            noisy += f" · {scores['noisy_ssim']:.3f}"
        if self.loaded is None:
            text = f"Input: PSNR {scores['noisy_psnr']:.2f} dB"
            if "noisy_ssim" in scores:
                text += f" · SSIM {scores['noisy_ssim']:.3f}"
        else:
            text += f"  ({noisy})"
        self.metrics_label.setText(text)
        self.metrics_changed.emit(scores)

    # ------------------------------------------------------------------ panes and views

    def _lead_pane(self) -> ImagePane:
        visible = [self.panes[n] for n in self.visible_panes()]
        leader = self.link.leader
        if leader is not None and leader in visible:
            return leader
        return visible[0] if visible else self.panes["noisy"]

    def _update_panes(self) -> None:
        has_reference = self._reference is not None or self.reference_image is not None
        if self.mode == "split":
            shown = {"split"}
        elif self.mode == "residual":
            shown = {"noisy", "output", "residual"}
        else:
            shown = {"noisy", "output"} | ({"reference"} if has_reference else set())
        for name, box in self.boxes.items():
            box.setVisible(name in shown)
        if self.link.leader is not None and self.link.leader not in [
                self.panes[n] for n in shown]:
            self.link.leader = self.panes["split" if self.mode == "split" else "noisy"]
        self._update_titles()
        self._update_controls()

    def _update_titles(self) -> None:
        autoencoder = self.loaded is not None and self.loaded.model.kind == "autoencoder"
        output = "Reconstructed" if autoencoder else "Denoised"
        if self.loaded is not None and self.amount < 1.0:
            output += f" · amount {round(self.amount * 100)}%"
        if self.loaded is not None and (self.luma < 1.0 or self.chroma < 1.0):
            output += f" · luma {round(self.luma * 100)}%, chroma {round(self.chroma * 100)}%"
        noisy = "Input"
        if self.noise != "none":
            noisy = f"Input + {self.noise} noise"
        clean = "Clean (before added noise)" if self.reference_image is None else "Clean reference"
        self.titles["noisy"].setText(noisy)
        self.titles["output"].setText(output)
        self.titles["reference"].setText(clean)
        self.titles["residual"].setText(f"Residual: input − {output.split(' ·')[0].lower()}, "
                                        f"×{self.gain:g}")
        split_title = f"Split: {noisy.lower()} ◂ drag the divider ▸ {output.lower()}"
        self.titles["split"].setText(split_title)
        split = self.panes["split"]
        assert isinstance(split, SplitPane)
        split.labels = ("Input", "Reconstructed" if autoencoder else "Denoised")
        split.viewport().update()

    def _update_controls(self, *_: Any) -> None:
        has_model = self.loaded is not None
        self.amount_slider.setEnabled(has_model)
        # Separate strengths only mean something for colour images.
        film = has_model and (self.image is None or self.image.shape[2] == 3)
        self.luma_slider.setVisible(film)
        self.chroma_slider.setVisible(film)
        self.gain_slider.setVisible(self.mode == "residual")
        self.reference_button.setEnabled(self.image is not None)
        self.clear_reference_button.setVisible(self.reference_image is not None)
        autoencoder = has_model and self.loaded.model.kind == "autoencoder"
        if autoencoder:
            size = self.loaded.model.image_size
            self.note_label.setText(
                f"This model is an autoencoder: it works on {size} × {size} images, so the "
                f"image is shown resized to {size} × {size} beside its reconstruction. Open a "
                "denoiser model to clean photos at full resolution.")
        self.note_label.setVisible(autoencoder)

    def _on_view_changed(self) -> None:
        pane = self._lead_pane()
        zoom = pane.zoom() / pane.one_to_one_zoom()
        self.zoom_label.setText(f"{zoom * 100:.0f}%")
        self._update_focus()

    def _update_focus(self) -> None:
        if self._noisy is None:
            return
        height, width = self._noisy.shape[:2]
        rect = self._lead_pane().visible_rect().intersected(QRectF(0, 0, width, height))
        if not rect.isEmpty():
            self.focus.set(rect.left(), rect.top(), rect.right(), rect.bottom())

    # ------------------------------------------------------------------ files

    def _choose_image(self) -> None:
        start = str(Path(self.image_path).parent) if self.image_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", start, IMAGE_FILTER)
        if path:
            self.open_image(path)

    def _choose_model(self) -> None:
        start = str(Path(self.model_path).parent) if self.model_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", start, MODEL_FILTER)
        if path:
            self.set_model(path)

    def _choose_reference(self) -> None:
        start = str(Path(self.image_path).parent) if self.image_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open the clean reference", start,
                                              IMAGE_FILTER)
        if path:
            self.set_reference(path)

    @staticmethod
    def _dropped_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        return [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES | {MODEL_SUFFIX}]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if self._dropped_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        files = self._dropped_files(event)
        models = [f for f in files if f.suffix.lower() == MODEL_SUFFIX]
        images = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
        if models:
            self.set_model(str(models[0]))
        if images:
            self.open_image(str(images[0]))
        if files:
            event.acceptProposedAction()
