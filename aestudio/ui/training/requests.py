"""Turn the training form into a :class:`~aestudio.core.training.messages.TrainRequest`,
or into the one line that says why it cannot start; ask before a run replaces a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from aestudio.core.config import TrainConfig, from_dict
from aestudio.core.training.messages import TrainRequest
from aestudio.ui.common.errors import first_line
from aestudio.ui.training.settings import TrainingSettings


class Refusal(Exception):
    """The form cannot start a run; the message says why, for the status line."""


def check_new_run(settings: TrainingSettings, overrides: dict[str, Any]) -> TrainRequest:
    """A request for a new model from the form's values (``out`` still to be filled in).

    The noise spec is checked by the engine when the run is set up (parsing it needs the
    engine, which the UI thread does not load).

    Raises
    ------
    Refusal
        No folder, no model, or values the configurations refuse.
    """
    if not settings.folder:
        raise Refusal("Choose a data set folder first (Dataset panel).")
    model = settings.current_model()
    if model is None or settings.model_form is None:
        raise Refusal("No model is available.")
    problems = settings.problems()
    try:
        train = from_dict(TrainConfig, settings.train_values(overrides))
        data = settings.data_config()
    except Exception as exc:  # a refused value is a message, never a crash
        problems.append(first_line(str(exc)) or type(exc).__name__)
    if problems:
        raise Refusal("Cannot start: " + "; ".join(problems))
    return TrainRequest(model=model, model_options=settings.model_form.values(), data=data,
                        train=train)


def check_resume(settings: TrainingSettings, model_path: str | None,
                 resume_point: tuple[int, int | None] | None,
                 overrides: dict[str, Any]) -> TrainRequest:
    """A request to continue ``model_path`` with the form's length, batch, rate and device.

    Parameters
    ----------
    settings
        The form.
    model_path
        The model file to continue.
    resume_point
        Its (step, steps per epoch), when known: a run that would end before that step
        is refused.
    overrides
        Training options that replace the form's.

    Raises
    ------
    Refusal
        No model file, refused values, or too few epochs to continue.
    """
    if not model_path:
        raise Refusal("No model file to resume: train one or open one first.")
    values = settings.training.resume_values()
    values.update(overrides)
    try:
        from_dict(TrainConfig, {**settings.train_values(), **values})
    except Exception as exc:  # refused values are shown, not raised
        raise Refusal(f"Cannot resume: {first_line(str(exc))}") from None
    if resume_point and values.get("max_minutes") is None:
        step, per_epoch = resume_point
        if per_epoch and values["epochs"] * per_epoch <= step:
            done = step // per_epoch
            raise Refusal(f"This model has trained {done} epochs already: raise "
                          f"“Train for” above {done} epochs to continue it.")
    return TrainRequest(resume_from=model_path, train_overrides=values,
                        folder=settings.folder)


def confirm_replace(parent: QWidget, path: str) -> bool:
    """Ask whether a new run may replace the existing model file ``path``."""
    answer = QMessageBox.question(
        parent, "Replace the model file?",
        f"{Path(path).name} already exists. Training a new model replaces it.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
