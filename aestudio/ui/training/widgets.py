"""Small widget helpers and text formats the training panel's parts share."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QComboBox, QLabel

SECONDARY_STYLE = "color: palette(placeholder-text);"
ERROR_STYLE = "color: #b00020;"


def small_label(text: str = "") -> QLabel:
    """A wrapping label in the secondary text colour."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(SECONDARY_STYLE)
    return label


def show_text(label: QLabel, text: str) -> None:
    """Set a label's text and hide it while empty (no blank gaps in the column)."""
    label.setText(text)
    label.setVisible(bool(text))


def compact_combo() -> QComboBox:
    """A combo box that does not widen a narrow dock with long entries."""
    combo = QComboBox()
    # The popup still shows long entries in full.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    return combo


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``?`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
