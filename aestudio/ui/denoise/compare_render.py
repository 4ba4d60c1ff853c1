"""What the compare panes show: the denoised regions mixed and redrawn, and their scores.

:class:`CompareRendering` is mixed into :class:`~aestudio.ui.denoise.compare_view.CompareView`.
Redrawing after a slider moved is spread over event-loop turns, the part on screen first,
so the window never freezes; the mix itself is the engine's torch-free formula
(:func:`aestudio.core.denoise.mix.mix`), so the panes match the saved files.
"""

from __future__ import annotations

import time

import numpy as np

from aestudio.core.denoise.mix import mix, residual
from aestudio.core.denoise.regions import Region, focus_order
from aestudio.ui.common.jobs import start_job
from aestudio.ui.denoise.compare_jobs import metrics_job

RENDER_SLICE_S = 0.015  # redraw work per event-loop turn after a slider moved


class CompareRendering:
    """Mixes, redraws and scores the compare view's output."""

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
        return mix(noisy, denoised, amount=self.amount, luma=self.luma, chroma=self.chroma)

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

