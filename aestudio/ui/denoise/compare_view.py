"""The compare view: noisy, denoised and clean side by side with linked zoom and pan.

Open an image and a model (buttons or drag and drop) and the view denoises the image at full
resolution in the background, the part on screen first (:mod:`aestudio.core.denoise.preview`).
Modes: side by side (input | denoised | clean reference when there is one), a split view
with a draggable divider, and a residual view (input minus denoised, amplified) that shows
structure a denoiser invented or removed. The Amount slider mixes the input back in. On a
clean image, synthetic noise can be added on the fly; PSNR and SSIM are then shown against
the clean image (or against a reference file the user opens).

An autoencoder model works at its training size: the view then shows the image resized to
that size beside its reconstruction, and says so.

The widgets are built by :mod:`~aestudio.ui.denoise.compare_layout`, the panes drawn by
:mod:`~aestudio.ui.denoise.compare_render`. Importing this module does not import torch: the
engine is loaded by the jobs, in their worker threads, so the window can open first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from aestudio.core.denoise.preview import AllDone, NoisyReady, RegionDone
from aestudio.core.denoise.regions import DEFAULT_REGION, Focus, Region
from aestudio.core.facts import MODEL_SUFFIX
from aestudio.core.io.convert import from_float
from aestudio.core.io.formats import IMAGE_SUFFIXES, ImageInfo
from aestudio.ui.common.errors import first_line, open_error
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import WorkerPool
from aestudio.ui.denoise.bundled_model import OpensBundledModel
from aestudio.ui.denoise.compare_controls import format_spec, split_spec
from aestudio.ui.denoise.compare_files import (
    IMAGE_FILTER,
    MODEL_FILTER,
    describe_image,
    describe_model,
    describe_noise,
    load_image_job,
    load_model_job,
    load_reference_job,
)
from aestudio.ui.denoise.compare_jobs import compare_job
from aestudio.ui.denoise.compare_layout import MODES, CompareLayout
from aestudio.ui.denoise.compare_render import CompareRendering
from aestudio.ui.denoise.compare_save import CompareSaving

if TYPE_CHECKING:
    from aestudio.core.data.noise_estimate import NoiseEstimate
    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["MODES", "CompareView"]

MIN_WIDTH, MIN_HEIGHT = 320, 240


class CompareView(OpensBundledModel, CompareLayout, CompareRendering, CompareSaving, QWidget):
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
    result_saved = Signal(str)  # the file written by Save result…

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.region_size = DEFAULT_REGION
        self.focus = Focus()
        self.loaded: LoadedModel | None = None
        self.model_path: str | None = None
        self.image: np.ndarray | None = None
        self.image_info: ImageInfo | None = None
        self.noise_estimate: NoiseEstimate | None = None  # of the image, from itself
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
        # The current generation's data (see aestudio.core.denoise.preview).
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
        self._update_panes()


    # ------------------------------------------------------------------ public API

    def set_model(self, path: str) -> None:
        """Load a model file in the background; the image is then denoised with it."""
        self.choose_model(path)
        path = str(path)
        self.state_label.setText("Loading model…")
        relay = start_job(self.pool, load_model_job(path), "Loading model", parent=self)
        self._loads.append(relay)
        relay.succeeded.connect(lambda result, p=path: self._model_ready(p, result[0]))
        relay.failed.connect(lambda m, d: self._report_error("Cannot open the model", m, d))
        relay.finished.connect(lambda r=relay: self._load_finished(r))

    def open_image(self, path: str) -> None:
        """Read an image (8 or 16 bit, gray or colour) in the background and show it."""
        path = str(path)
        self.open_bundled_model()
        self.state_label.setText("Reading image…")
        relay = start_job(self.pool, load_image_job(path), "Reading image", parent=self)
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
        job = load_reference_job(path, self.image.shape, self.image.dtype)
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
        if not self.is_chosen(path):  # another model was asked for since
            return
        old_kind = self.loaded.model.kind if self.loaded is not None else None
        self.loaded, self.model_path = loaded, path
        self.model_label.setText(describe_model(path, loaded))
        self.model_label.setToolTip(path)
        if loaded.model.kind != old_kind:
            self._fit_next = True
        self.model_loaded.emit(path)
        self._restart()

    def _image_ready(self, path: str, array: np.ndarray, info: ImageInfo,
                     noise: NoiseEstimate | None = None) -> None:
        self.image, self.image_info, self.image_path = array, info, path
        self.noise_estimate = noise
        self.reference_image, self.reference_path = None, None  # it belonged to the old image
        self.image_label.setText(describe_image(path, info, noise))
        self.image_label.setToolTip(f"{path}\n{describe_noise(noise)}")
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
        self._update_controls()
        self.denoise_finished.emit(event.seconds)


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

