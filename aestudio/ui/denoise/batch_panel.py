"""The batch queue: denoise many files at full resolution with a saved model.

Add files and folders (buttons or drag and drop), pick an output folder (by default a
``denoised`` folder inside the first input folder, never the input folder itself), set the
amount and the tile size, and Start. Each file gets a row with its size, bit depth, status
and progress; a file that cannot be read fails in its row and the batch goes on. Cancel
stops after the current tile. Outputs keep the input's format, bit depth, EXIF and ICC, and
get a JSON sidecar describing how they were made. The work is the engine's one batch loop
(:func:`aestudio.core.denoise.batch.denoise_files`), run in a worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from aestudio.core.events import FileDone, FileProgress, FileStarted
from aestudio.core.facts import MODEL_SUFFIX
from aestudio.core.io.formats import IMAGE_SUFFIXES
from aestudio.ui.common.errors import first_line, open_error
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import WorkerPool
from aestudio.ui.denoise.batch_jobs import FilesFound, batch_job, find_images_job
from aestudio.ui.denoise.batch_layout import DEFAULT_OUTPUT_NAME, BatchLayout
from aestudio.ui.denoise.batch_table import (
    CANCELLED,
    DONE,
    FAILED,
    NOT_STARTED,
    RUNNING,
    WAITING,
    BatchRow,
)
from aestudio.ui.denoise.bundled_model import OpensBundledModel
from aestudio.ui.denoise.compare_files import (
    IMAGE_FILTER,
    MODEL_FILTER,
    describe_model,
    load_model_job,
)

if TYPE_CHECKING:
    from aestudio.core.denoise.batch import BatchSummary
    from aestudio.core.models.modelfile import LoadedModel

__all__ = ["CANCELLED", "DONE", "FAILED", "NOT_STARTED", "BatchDenoisePanel"]

IN_PLACE_SUFFIX = "-denoised"  # when the chosen output folder also holds inputs


class BatchDenoisePanel(OpensBundledModel, BatchLayout, QWidget):
    """A queue of image files denoised with one model, each with status and progress.

    Parameters
    ----------
    pool : WorkerPool
        Runs the model loading, the folder search and the batch.
    parent : QWidget, optional
    """

    model_loaded = Signal(str)
    files_added = Signal(int)
    batch_finished = Signal(object)  # BatchSummary
    error_occurred = Signal(str, str)  # title, one-line message

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.loaded: LoadedModel | None = None
        self.model_path: str | None = None
        self.summary: BatchSummary | None = None
        self._output_chosen = False
        self._batch: JobRelay | None = None
        self._searches: list[JobRelay] = []
        self._loads: list[JobRelay] = []
        self._error_boxes: list[QMessageBox] = []
        self._build()
        # An explicit minimum lets the main window shrink below the rows of controls.
        self.setMinimumSize(320, 240)
        self.setAcceptDrops(True)
        self._update_buttons()


    # ------------------------------------------------------------------ public API

    def set_model(self, path: str) -> None:
        """Load a saved denoiser in the background."""
        path = str(path)
        self.choose_model(path)
        self.model_label.setText(f"Loading {Path(path).name}…")
        relay = start_job(self.pool, load_model_job(path), "Loading model", parent=self)
        self._loads.append(relay)
        relay.succeeded.connect(lambda result, p=path: self._model_ready(p, *result))
        relay.failed.connect(lambda m, d: self._model_failed(m, d))
        relay.finished.connect(lambda r=relay: self._job_over(self._loads, r))

    def add_paths(self, paths: Iterable[str | Path]) -> None:
        """Queue image files and every image in folders (searched in the background)."""
        paths = [Path(p) for p in paths]
        if not paths:
            return
        if not self._output_chosen and not self.output_edit.text():
            first = paths[0]
            base = first if first.is_dir() else first.parent
            self.output_edit.setText(str(base / DEFAULT_OUTPUT_NAME))
        skip = self.output_edit.text() or None
        relay = start_job(self.pool, find_images_job(paths, skip), "Finding images", parent=self)
        self._searches.append(relay)
        relay.succeeded.connect(lambda found, ps=paths: self._files_found(ps, found))
        relay.failed.connect(lambda m, d: self._report_error("Cannot add the files", m, d))
        relay.finished.connect(lambda r=relay: self._job_over(self._searches, r))
        self._update_buttons()

    def set_output_folder(self, path: str | Path) -> None:
        """Write outputs into ``path`` (created when the batch starts)."""
        self._output_chosen = True
        self.output_edit.setText(str(path))

    def output_folder(self) -> Path | None:
        text = self.output_edit.text().strip()
        return Path(text).expanduser() if text else None

    def rows(self) -> list[BatchRow]:
        return list(self.table_model.rows)

    def start(self) -> None:
        """Denoise every queued file into the output folder."""
        if self.is_running():
            return
        if self.loaded is None:
            self._report_error("Cannot start", "Open a denoiser model first.")
            return
        if not self.table_model.rows:
            self._report_error("Cannot start", "Add some images first.")
            return
        out_dir = self.output_folder()
        if out_dir is None:
            self._report_error("Cannot start", "Choose an output folder.")
            return
        rows = self.table_model.rows
        for i in range(len(rows)):
            self.table_model.update(i, status=WAITING, progress=0.0, message="", target=None)
        files = [(row.path, row.relative) for row in rows]
        suffix = IN_PLACE_SUFFIX if self._holds_inputs(out_dir) else ""
        luma = self.luma_slider.value() / 100
        chroma = self.chroma_slider.value() / 100
        job = batch_job(self.loaded, files, out_dir, tile=self.tile(),
                        amount=self.amount_slider.value() / 100, suffix=suffix,
                        luma=luma, chroma=chroma)
        relay = start_job(self.pool, job, "Batch denoising", parent=self)
        relay.event.connect(self._on_event)
        relay.succeeded.connect(self._batch_done)
        relay.failed.connect(lambda m, d: self._report_error("The batch stopped", m, d))
        relay.finished.connect(self._batch_over)
        self._batch = relay
        self.summary = None
        self.summary_label.setText(f"Denoising {len(files)} files into {out_dir} …")
        self.progress.setValue(0)
        self._update_buttons()

    def cancel(self) -> None:
        """Stop the batch after the current tile; files already written stay."""
        if self._batch is not None and not self._batch.done:
            self._batch.request_stop()
            self.summary_label.setText("Cancelling after the current tile…")
            self.cancel_button.setEnabled(False)

    def is_running(self) -> bool:
        return self._batch is not None and not self._batch.done

    def is_busy(self) -> bool:
        """True while a model loads, a folder is searched or the batch runs."""
        return self.is_running() or any(not r.done for r in self._searches + self._loads)

    def tile(self) -> int | None:
        """The tile side chosen, or None for automatic."""
        return None if self.tile_auto.isChecked() else self.tile_spin.value()

    def remove_selected(self) -> None:
        if self.is_running():
            return
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        self.table_model.remove(rows)
        self._update_buttons()

    def clear(self) -> None:
        """Empty the queue (not while the batch runs)."""
        if self.is_running():
            return
        self.table_model.clear()
        self.summary_label.setText("")
        self.progress.setValue(0)
        if not self._output_chosen:
            self.output_edit.clear()
        self._update_buttons()

    def open_output_folder(self) -> None:
        folder = self.output_folder()
        if folder is not None and folder.is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def shutdown(self) -> None:
        """Ask every job of this panel to stop (the pool waits for them on exit)."""
        for relay in [self._batch, *self._searches, *self._loads]:
            if relay is not None and not relay.done:
                relay.request_stop()

    # ------------------------------------------------------------------ jobs

    def _job_over(self, jobs: list[JobRelay], relay: JobRelay) -> None:
        if relay in jobs:
            jobs.remove(relay)
        self._update_buttons()

    def _model_ready(self, path: str, loaded: LoadedModel, device: str) -> None:
        if not self.is_chosen(path):  # another model was asked for since
            return
        if loaded.model.kind != "denoiser":
            size = loaded.model.image_size
            self.loaded, self.model_path = None, None
            self.model_label.setText("No model")
            self._report_error(
                "Cannot batch-denoise with this model",
                f"{Path(path).name} is an autoencoder that works on {size} × {size} images; "
                "batch denoising needs a denoiser model.")
            return
        self.loaded, self.model_path = loaded, path
        self.model_label.setText(f"{describe_model(path, loaded)} · runs on {device}")
        self.model_label.setToolTip(path)
        self.model_loaded.emit(path)
        self._update_buttons()

    def _model_failed(self, message: str, details: str) -> None:
        if self.loaded is None:
            self.model_label.setText("No model: open a trained denoiser (.aemodel).")
        else:
            self.model_label.setText(describe_model(self.model_path or "", self.loaded))
        self._report_error("Cannot open the model", message, details)

    def _files_found(self, paths: list[Path], found: FilesFound) -> None:
        rows = [BatchRow(f.path, f.relative, f.info, problem=f.problem) for f in found.files]
        added = self.table_model.add(rows)
        if found.problems:
            self.summary_label.setText("Not added: " + "; ".join(found.problems[:3])
                                       + (" …" if len(found.problems) > 3 else ""))
        self.files_added.emit(added)
        self._update_buttons()

    def _on_event(self, event: Any) -> None:
        model = self.table_model
        if isinstance(event, FileStarted):
            model.update(event.index, status=RUNNING, progress=0.0, target=None)
            self.table.scrollTo(model.index(event.index, 0))
        elif isinstance(event, FileProgress):
            model.update(event.index, progress=event.done / max(event.total, 1))
        elif isinstance(event, FileDone) and event.error is None:
            model.update(event.index, status=DONE, progress=1.0, target=Path(event.output),
                         message=event.note or "")
        elif isinstance(event, FileDone):
            model.update(event.index, status=FAILED, progress=0.0, message=event.error,
                         target=None)
        self._update_overall()

    def _update_overall(self) -> None:
        rows = self.table_model.rows
        if not rows:
            return
        finished = sum(1 for r in rows if r.status in (DONE, FAILED))
        current = sum(r.progress for r in rows if r.status == RUNNING)
        self.progress.setValue(round(1000 * (finished + current) / len(rows)))

    def _batch_done(self, summary: BatchSummary) -> None:
        self.summary = summary
        for i, row in enumerate(self.table_model.rows):
            if summary.cancelled and row.status == RUNNING:
                self.table_model.update(i, status=CANCELLED, target=None)
            elif summary.cancelled and row.status == WAITING:
                self.table_model.update(i, status=NOT_STARTED)
        text = f"{summary.describe()}. Outputs in {summary.out_dir}"
        if summary.failed:
            path, message = summary.failed[0]
            text += f"\nFirst failure: {path.name}: {message}"
        self.summary_label.setText(text)
        if not summary.cancelled:
            self.progress.setValue(1000)
        self._update_buttons()
        self.batch_finished.emit(summary)

    def _batch_over(self) -> None:
        self._update_buttons()

    # ------------------------------------------------------------------ output folder

    def _output_edited(self, _text: str) -> None:
        self._output_chosen = True

    def _holds_inputs(self, folder: Path) -> bool:
        try:
            resolved = folder.resolve()
        except OSError:
            return False
        return resolved in self.table_model.folders()

    def _update_output_hint(self, *_: Any) -> None:
        folder = self.output_folder()
        if folder is None:
            self.output_hint.setText("")
        elif self._holds_inputs(folder):
            self.output_hint.setText(f"This folder holds input images: outputs get a "
                                     f"“{IN_PLACE_SUFFIX}” suffix; inputs are never "
                                     "overwritten.")
        else:
            self.output_hint.setText("Outputs keep their name, format and bit depth (with "
                                     "EXIF and ICC), plus a .json note of the settings.")

    # ------------------------------------------------------------------ widgets

    def _update_buttons(self) -> None:
        running = self.is_running()
        has_rows = bool(self.table_model.rows)
        searching = any(not r.done for r in self._searches)
        self.start_button.setEnabled(not running and not searching and has_rows
                                     and self.loaded is not None)
        self.cancel_button.setEnabled(running and not self._batch.stop_requested)
        for w in (self.add_files_button, self.add_folder_button, self.remove_button,
                  self.clear_button, self.open_model_button):
            w.setEnabled(not running)
        folder = self.output_folder()
        self.open_output_button.setEnabled(folder is not None and folder.is_dir())
        self.empty_hint.setVisible(not has_rows)
        count = len(self.table_model.rows)
        self.count_label.setText(f"{count} file{'s' if count != 1 else ''}" if count else "")
        self._update_output_hint()

    def _report_error(self, title: str, message: str, details: str = "") -> None:
        message = first_line(message)
        self.error_occurred.emit(title, message)
        open_error(self, title, message, details, self._error_boxes)

    def _choose_model(self) -> None:
        start = str(Path(self.model_path).parent) if self.model_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a denoiser", start, MODEL_FILTER)
        if path:
            self.set_model(path)

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add images", "", IMAGE_FILTER)
        if paths:
            self.add_paths(paths)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        if folder:
            self.add_paths([folder])

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder",
                                                  self.output_edit.text())
        if folder:
            self.set_output_folder(folder)

    # ------------------------------------------------------------------ drag and drop

    @staticmethod
    def _dropped(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        return [p for p in paths if p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES
                or p.suffix.lower() == MODEL_SUFFIX]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if self._dropped(event) and not self.is_running():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        paths = self._dropped(event)
        models = [p for p in paths if p.suffix.lower() == MODEL_SUFFIX and p.is_file()]
        if models:
            self.set_model(str(models[0]))
        images = [p for p in paths if p not in models]
        if images:
            self.add_paths(images)
        if paths:
            event.acceptProposedAction()

