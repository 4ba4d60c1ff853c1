"""Saving the compare view's result: a file dialog, then the engine's writer in a worker.

:class:`CompareSaving` is mixed into :class:`~aestudio.ui.denoise.compare_view.CompareView`.
The file keeps the photo's bit depth and metadata and gets a sidecar, as batch outputs do,
and is never written over the photo itself.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from aestudio.ui.common.jobs import start_job
from aestudio.ui.common.workers import JobFn, Worker
from aestudio.ui.denoise.compare_files import IMAGE_FILTER


def default_result_path(image_path: str) -> Path:
    """``photo-denoised.tif`` beside ``photo.tif`` (numbered when that exists)."""
    source = Path(image_path)
    target = source.with_name(f"{source.stem}-denoised{source.suffix}")
    n = 2
    while target.exists():
        target = source.with_name(f"{source.stem}-denoised-{n}{source.suffix}")
        n += 1
    return target


def save_result_job(view, target: str) -> JobFn:
    """A job writing what ``view`` shows now to ``target``."""
    loaded, source = view.loaded, view.image_path
    noisy, denoised, dtype = view._noisy, view._denoised, view.image.dtype  # noqa: SLF001
    amount, luma, chroma = view.amount, view.luma, view.chroma

    def job(worker: Worker) -> str:
        from aestudio.core.denoise.save import save_compare_result

        return str(save_compare_result(loaded, source, target, noisy, denoised, dtype,
                                       amount=amount, luma=luma, chroma=chroma))

    return job


class CompareSaving:
    """"Save result…" of the compare view."""

    def can_save(self) -> bool:
        """True once the whole image is denoised at full resolution (by a denoiser)."""
        full_size = self.loaded is not None and self.loaded.model.kind != "autoencoder"
        return bool(full_size and self._complete and self._denoised is not None
                    and self.image_path)

    def save_result(self, path: str) -> None:
        """Write the result as shown (strengths included) to ``path`` in the background;
        ``result_saved`` then says where, or an error dialog says why not."""
        if not self.can_save():
            self._report_error("Nothing to save", "Denoise an image first.")
            return
        relay = start_job(self.pool, save_result_job(self, path), "save the denoised image",
                          parent=self)
        relay.succeeded.connect(self._on_saved)
        relay.failed.connect(lambda m, d: self._report_error("Cannot save the result", m, d))

    def _choose_save(self) -> None:
        if not self.can_save():
            return
        start = str(default_result_path(self.image_path))
        path, _ = QFileDialog.getSaveFileName(self, "Save the denoised image", start,
                                              IMAGE_FILTER)
        if path:
            self.save_result(path)

    def _on_saved(self, path: str) -> None:
        self.state_label.setText(f"Saved {Path(path).name}")
        self.state_label.setToolTip(path)
        self.result_saved.emit(path)
