"""A float spin box that reads and shows scientific notation, stepping 1-2-5 if asked."""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget


def format_float(value: float) -> str:
    """Compact text for a float: ``0.001``, ``1e-05``, ``25``, ``0.25``."""
    if value == 0:
        return "0"
    return f"{value:.6g}"


def nice_steps(value: float, steps: int) -> float:
    """Move ``value`` along the 1-2-5 sequence (1e-4, 2e-4, 5e-4, 1e-3, ...) by ``steps``."""
    if value <= 0:
        return value
    exponent = math.floor(math.log10(value))
    mantissa = value / 10**exponent
    ladder = (1.0, 2.0, 5.0)
    # The nearest rung at or below the current mantissa, then walk.
    index = max(i for i, m in enumerate(ladder) if m <= mantissa + 1e-9)
    position = exponent * 3 + index + steps
    return ladder[position % 3] * 10.0 ** (position // 3)


class SciSpinBox(QDoubleSpinBox):
    """A float spin box that shows values compactly and accepts scientific notation.

    With ``log_steps`` the arrows walk the 1-2-5 sequence, which suits learning rates and
    other values spanning several orders of magnitude.
    """

    def __init__(self, parent: QWidget | None = None, *, log_steps: bool = False) -> None:
        super().__init__(parent)
        self.log_steps = log_steps
        self.setDecimals(12)  # internal precision; the text is formatted by textFromValue
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # Qt override
        return format_float(value)

    def valueFromText(self, text: str) -> float:  # Qt override
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> QValidator.State:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # A number still being typed ("", "-", "1e", "1e-", ".") may become valid.
            probe = stripped + ("0" if stripped[-1:] in ("", "-", "+", "e", "E", ".") else "")
            try:
                float(probe)
            except ValueError:
                return QValidator.State.Invalid
            return QValidator.State.Intermediate
        if not math.isfinite(value) or not self.minimum() <= value <= self.maximum():
            return QValidator.State.Intermediate
        return QValidator.State.Acceptable

    def stepBy(self, steps: int) -> None:  # Qt override
        if self.log_steps and self.value() > 0:
            value = min(self.maximum(), max(self.minimum(), nice_steps(self.value(), steps)))
            self.setValue(value)
        else:
            super().stepBy(steps)

