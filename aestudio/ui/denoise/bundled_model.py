"""The denoising views open the bundled ``photo`` model until the user picks another."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent


def bundled_model_path() -> str | None:
    """The file of the bundled ``photo`` denoiser, or None in an installation without it."""
    from aestudio.core.models.bundled import bundled_models

    models = bundled_models()
    return str(models[0].path) if models else None


class OpensBundledModel:
    """Mixin of a view with ``set_model``: the first time it is shown (or given an image)
    with no model chosen, it loads the bundled one, so that a photo dropped on a fresh
    studio is denoised at once. Its ``set_model`` calls :meth:`choose_model`, and its
    handler of a loaded model drops what :meth:`is_chosen` refuses: of several loads in
    flight, the last one asked for wins."""

    #: False: start with no model (as the views' tests of an empty view do).
    offer_bundled_model = True
    _chosen_model: str | None = None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)  # type: ignore[misc]
        self.open_bundled_model()

    def choose_model(self, path: str) -> None:
        """Record ``path`` as the model this view is to show."""
        self._chosen_model = path

    def is_chosen(self, path: str) -> bool:
        """Whether a model that finished loading is the one last asked for."""
        return path == self._chosen_model

    def open_bundled_model(self) -> None:
        """Load the bundled model unless a model was chosen before."""
        if not self.offer_bundled_model or self._chosen_model is not None:
            return
        path = bundled_model_path()
        if path:
            self.set_model(path)  # type: ignore[attr-defined]
