"""Opening and saving model files from the window, and handing them to the views."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aestudio.core.facts import MODEL_SUFFIX
from aestudio.core.io.atomic import atomic_copy
from aestudio.ui.common.errors import show_error
from aestudio.ui.common.jobs import start_job
from aestudio.ui.common.workers import Worker

if TYPE_CHECKING:
    from aestudio.core.models.summary import ModelSummary


class WindowModelFiles:
    """Model files of :class:`MainWindow`: open, save a copy, share with the views.

    A mixin of :class:`~aestudio.ui.main_window.MainWindow`.
    """

    def open_model(self, path: str | Path) -> None:
        """Check a model file in the background, then hand it to the Training panel.

        A file that is not a usable model gives a one-line error dialog. Before the panels
        are built, this waits for them.
        """
        if not self.is_ready():
            self.when_ready(lambda: self.open_model(path))
            return
        path = str(Path(path).expanduser())

        def job(_worker: Worker) -> ModelSummary:
            from aestudio.core.models.summary import read_model_summary  # after first paint

            return read_model_summary(path)

        relay = start_job(self.pool, job, "open-model", parent=self)
        relay.succeeded.connect(lambda summary: self._on_model_checked(path, summary))
        relay.failed.connect(lambda message, details: self._on_model_failed(path, message,
                                                                            details))
        self.show_status(f"Reading {Path(path).name}…")

    def save_model_as(self, target: str | Path) -> None:
        """Copy the current model file to ``target`` (in the background)."""
        source = self.current_model_path()
        if not source:
            self.show_status("No model to save yet: train one or open a model file.")
            return
        target = Path(target).expanduser()
        if target.suffix.lower() != MODEL_SUFFIX:
            target = target.with_name(target.name + MODEL_SUFFIX)

        def job(_worker: Worker) -> str:
            if Path(source).resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_copy(source, target)  # a reader never sees half a file
            return str(target)

        relay = start_job(self.pool, job, "save-model", parent=self)
        relay.succeeded.connect(lambda path: self.show_status(f"Saved the model to {path}"))
        relay.failed.connect(lambda message, details: self._report(
            "Cannot save the model", message, details))

    def current_model_path(self) -> str | None:
        """The model file Save model as copies: the trained or opened one, or None."""
        path = self.training_panel.current_model_path() or self._model_path
        return path if path and Path(path).is_file() else None

    def _share_model(self, path: str, kind: str | None, *, chosen: bool = True) -> None:
        """Hand a model file to every view that uses one (each loads it in a worker).

        An autoencoder just trained (``chosen`` False) leaves the Denoise tab's denoiser (the
        bundled one, or one the user opened) in place: it reaches that tab only when the tab
        already shows an autoencoder, or when the user opens it."""
        shown = self.compare_view.loaded
        if kind == "denoiser" or chosen or (shown is not None
                                           and shown.model.kind != "denoiser"):
            self.compare_view.set_model(path)
        if kind == "denoiser":
            self.batch_panel.set_model(path)
        elif kind == "autoencoder":
            self.latent_explorer.set_model(path)

    def _on_model_checked(self, path: str, summary: ModelSummary) -> None:
        self._model_path = path
        self.training_panel.set_model_file(path)
        self._share_model(path, summary.kind)
        trained = f", trained {summary.step:,} steps" if summary.step else ""
        self.show_status(f"Opened {Path(path).name}: {summary.architecture}{trained}")
        self._update_actions()

    def _on_model_failed(self, path: str, message: str, details: str) -> None:
        self.show_status(f"Cannot open {Path(path).name}: {message}")
        show_error(self, "Cannot open the model", message, details)

    def _on_model_ready(self, path: str) -> None:
        if path:
            self._model_path = path
        self._update_actions()

    def _update_actions(self) -> None:
        self.save_model_action.setEnabled(self.current_model_path() is not None)
