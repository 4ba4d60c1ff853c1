"""The denoising views open the bundled ``photo`` model until the user picks another."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent


def bundled_model_path() -> str | None:
    """The file of the bundled ``photo`` denoiser, or None in an installation without it."""
    from aestudio.core.models.bundled import bundled_models

    models = bundled_models()
    return str(models[0].path) if models else None


class OpensBundledModel:
    """Mixin of a view with ``model_path`` and ``set_model``: the first time it is shown (or
    given an image) with no model, it loads the bundled one, so that a photo dropped on a
    fresh studio is denoised at once."""

    #: False: start with no model (as the views' tests of an empty view do).
    offer_bundled_model = True
    _bundled_tried = False

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)  # type: ignore[misc]
        self.open_bundled_model()

    def open_bundled_model(self) -> None:
        """Load the bundled model unless a model is set or it was offered before."""
        if (not self.offer_bundled_model or self._bundled_tried
                or getattr(self, "model_path", None)):
            return
        self._bundled_tried = True
        path = bundled_model_path()
        if path:
            self.set_model(path)  # type: ignore[attr-defined]
