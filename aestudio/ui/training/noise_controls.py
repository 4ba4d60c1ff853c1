"""Noise model controls: a kind combo, its strength parameters and a plain description.

They write and read the engine's noise spec strings (``"gaussian:25"``,
``"poisson-gaussian:30,5"``). The kinds and their parameter names come from the engine
(:data:`aestudio.core.data.noise.NOISE_KINDS` / ``NOISE_SYNTAX``) once it is loaded; until
:meth:`NoiseControls.set_kinds` is called the controls are empty and torch is not imported.
"""

from __future__ import annotations

import contextlib
import re

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from aestudio.core.data.noise_syntax import PARAM_RANGES
from aestudio.ui.common.config_form import SciSpinBox, format_float

MAX_PARAMS = 2
SECONDARY_STYLE = "color: palette(placeholder-text);"
ERROR_STYLE = "color: #b00020;"

ParamTable = dict[str, tuple[tuple[str, ...], tuple[float, ...]]]


def noise_parameters(syntax: dict[str, str]) -> ParamTable:
    """Parameter names and example values per noise kind, read from the engine's syntax text.

    ``"gaussian:SIGMA: ... (e.g. gaussian:25)"`` gives ``{"gaussian": (("SIGMA",), (25.0,))}``.
    """
    result = {}
    for kind, text in syntax.items():
        head = text.split(": ", 1)[0]
        names = tuple(n for n in head.partition(":")[2].split(",") if n)
        example = re.search(r"e\.g\.\s*" + re.escape(kind) + r":([\d.,eE+-]+)", text)
        values: tuple[float, ...] = ()
        if example:
            try:
                values = tuple(float(v) for v in example.group(1).rstrip(".,").split(","))
            except ValueError:
                values = ()
        if len(values) != len(names):
            values = tuple(PARAM_RANGES.get(n, (0.0, 1.0, 0.0))[0] for n in names)
        result[kind] = (names, values)
    return result


class NoiseControls(QObject):
    """Three widgets the caller lays out: ``combo``, ``strength`` and ``description``."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._params: ParamTable = {}
        self._syntax: dict[str, str] = {}
        self._active = True
        self._inactive_reason = ""
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(6)
        self.combo.setToolTip("The synthetic noise added to the images for the task.")
        self.combo.currentIndexChanged.connect(self._on_kind_changed)
        self.strength = QWidget()
        row = QHBoxLayout(self.strength)
        row.setContentsMargins(0, 0, 0, 0)
        self.names: list[QLabel] = []
        self.spins: list[SciSpinBox] = []
        for _ in range(MAX_PARAMS):
            name = QLabel()
            spin = SciSpinBox()
            spin.setMinimumWidth(50)
            spin.valueChanged.connect(self._on_value_changed)
            row.addWidget(name)
            row.addWidget(spin, 1)
            self.names.append(name)
            self.spins.append(spin)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet(SECONDARY_STYLE)

    # -- public API ----------------------------------------------------------------------
    def set_kinds(self, kinds: tuple[str, ...], syntax: dict[str, str]) -> None:
        """Fill the kinds from the engine; parameter names and defaults follow its syntax."""
        self._syntax = dict(syntax)
        self._params = noise_parameters(syntax)
        self.combo.blockSignals(True)
        self.combo.clear()
        for kind in kinds:
            self.combo.addItem(kind, kind)
            self.combo.setItemData(self.combo.count() - 1, syntax.get(kind, ""),
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.blockSignals(False)
        self._on_kind_changed()

    def kinds(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    def parameter_count(self) -> int:
        """How many strength values the current kind takes (the caller hides an empty row)."""
        return len(self._params.get(self.combo.currentData(), ((), ()))[0])

    def spec(self) -> str:
        """The spec the controls describe, e.g. ``gaussian:25``; ``none`` before any kind."""
        kind = self.combo.currentData() or "none"
        count = self.parameter_count()
        if not count:
            return kind
        return f"{kind}:{','.join(format_float(s.value()) for s in self.spins[:count])}"

    def set_spec(self, spec: str) -> bool:
        """Show ``spec``; False (and nothing changed) when its kind is unknown here."""
        kind, _, params = spec.partition(":")
        index = self.combo.findData(kind.strip().lower())
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        self._on_kind_changed()
        for spin, text in zip(self.spins, [p for p in params.split(",") if p.strip()],
                              strict=False):
            with contextlib.suppress(ValueError):
                spin.setValue(float(text))
        self._describe()
        return True

    def set_active(self, active: bool, reason: str = "") -> None:
        """Enable the controls only when the task adds noise; ``reason`` says why not."""
        self._active = active
        self._inactive_reason = reason or "No noise is added for this task."
        for widget in (self.combo, self.strength, self.description):
            widget.setEnabled(active)
        self._describe()

    # -- internals -----------------------------------------------------------------------
    def _on_kind_changed(self, _index: int = 0) -> None:
        kind = self.combo.currentData()
        names, defaults = self._params.get(kind, ((), ()))
        for i, (label, spin) in enumerate(zip(self.names, self.spins, strict=True)):
            visible = i < len(names)
            label.setVisible(visible)
            spin.setVisible(visible)
            if not visible:
                continue
            low, high, step = PARAM_RANGES.get(names[i], (0.0, 1e6, 1.0))
            spin.blockSignals(True)
            spin.setRange(low, high)
            spin.log_steps = step == 0
            spin.setSingleStep(step or 1.0)
            spin.setValue(defaults[i])
            spin.blockSignals(False)
            label.setText(names[i].lower())
            spin.setToolTip(self._syntax.get(kind, ""))
        self._describe()
        self.changed.emit()

    def _on_value_changed(self, _value: float = 0.0) -> None:
        self._describe()
        self.changed.emit()

    def _describe(self) -> None:
        if not self.combo.count():
            self.description.setText("")
            return
        if not self._active:
            self.description.setStyleSheet(SECONDARY_STYLE)
            self.description.setText(self._inactive_reason)
            return
        from aestudio.core.data.noise import NoiseSpecError, parse_noise  # loaded with the kinds

        try:
            text, style = parse_noise(self.spec()).describe(), SECONDARY_STYLE
        except NoiseSpecError as exc:
            text, style = str(exc), ERROR_STYLE
        self.description.setStyleSheet(style)
        self.description.setText(text)
