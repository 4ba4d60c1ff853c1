"""A form built from any config dataclass, using its field metadata.

Each field's type and metadata pick the editor: ``choices`` give a combo box, ``bool`` a check
box, ``int`` / ``float`` spin boxes bounded by ``minimum`` / ``maximum`` (floats read and show
scientific notation, so a learning rate of ``1e-4`` is typed as written), ``tuple[int, ...]`` a
line edit such as ``512, 256``, and ``X | None`` a check box that enables the editor. ``help``
becomes the tooltip of the label and the editor.

Invalid input never raises: a field that cannot be read, or a combination the config class
refuses (its ``__post_init__`` checks), is shown in red under the form and reported by
:meth:`ConfigForm.errors` / :meth:`ConfigForm.problem`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aestudio.core.config import from_dict

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e12
ERROR_STYLE = "color: #b00020;"
INVALID_EDIT_STYLE = "QLineEdit { border: 1px solid #b00020; }"


def humanise(name: str) -> str:
    """``latent_dim`` -> ``Latent dim``; a few abbreviations are kept as people write them."""
    special = {"lr": "Learning rate", "amp": "Mixed precision (AMP)", "hidden": "Hidden units",
               "arch": "Architecture"}
    if name in special:
        return special[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


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


def _resolve(annotation: Any) -> tuple[Any, bool]:
    """The field's base type and whether it is optional (``X | None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        return (args[0] if args else str), optional
    return annotation, False


class _Editor:
    """One field's editor: a widget plus value access; ``value`` raises ValueError on bad input."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def connect(self, slot: Callable[[], None]) -> None:
        raise NotImplementedError


class _BoolEditor(_Editor):
    def __init__(self, text: str) -> None:
        super().__init__(QCheckBox(text))
        self.box: QCheckBox = self.widget  # type: ignore[assignment]

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(bool(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.box.toggled.connect(lambda _=None: slot())


class _ChoiceEditor(_Editor):
    def __init__(self, choices: Iterable[Any]) -> None:
        super().__init__(QComboBox())
        self.combo: QComboBox = self.widget  # type: ignore[assignment]
        self.choices = list(choices)
        for choice in self.choices:
            self.combo.addItem(str(choice))

    def value(self) -> Any:
        return self.choices[max(0, self.combo.currentIndex())]

    def set_value(self, value: Any) -> None:
        if value in self.choices:
            self.combo.setCurrentIndex(self.choices.index(value))
        else:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, self.choices))}")

    def connect(self, slot: Callable[[], None]) -> None:
        self.combo.currentIndexChanged.connect(lambda _=None: slot())


class _IntEditor(_Editor):
    def __init__(self, minimum: int, maximum: int) -> None:
        super().__init__(QSpinBox())
        self.spin: QSpinBox = self.widget  # type: ignore[assignment]
        self.spin.setRange(minimum, maximum)
        self.spin.setKeyboardTracking(False)
        self.spin.setGroupSeparatorShown(maximum >= 100_000)

    def value(self) -> int:
        return int(self.spin.value())

    def set_value(self, value: Any) -> None:
        self.spin.setValue(int(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.spin.valueChanged.connect(lambda _=None: slot())


class _FloatEditor(_Editor):
    def __init__(self, minimum: float, maximum: float, step: float | None) -> None:
        log_steps = minimum > 0 and maximum / minimum >= 1000
        super().__init__(SciSpinBox(log_steps=log_steps))
        self.spin: SciSpinBox = self.widget  # type: ignore[assignment]
        self.spin.setRange(minimum, maximum)
        if step is None:
            span = maximum - minimum
            step = 0.05 if span <= 1 else 0.5 if span <= 10 else 1.0
        self.spin.setSingleStep(step)

    def value(self) -> float:
        return float(self.spin.value())

    def set_value(self, value: Any) -> None:
        self.spin.setValue(float(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.spin.valueChanged.connect(lambda _=None: slot())


class _TupleEditor(_Editor):
    """Whole numbers separated by commas, e.g. ``512, 256``."""

    def __init__(self, item_type: type) -> None:
        super().__init__(QLineEdit())
        self.edit: QLineEdit = self.widget  # type: ignore[assignment]
        self.item_type = item_type
        self.edit.setPlaceholderText("e.g. 512, 256")

    def value(self) -> tuple:
        items = [t for t in self.edit.text().replace(";", ",").split(",") if t.strip()]
        if not items:
            raise ValueError("needs at least one value, e.g. 512, 256")
        try:
            values = tuple(self.item_type(t.strip()) for t in items)
        except ValueError:
            kind = "whole numbers" if self.item_type is int else "numbers"
            raise ValueError(f"must be {kind} separated by commas, e.g. 512, 256") from None
        return values

    def set_value(self, value: Any) -> None:
        self.edit.setText(", ".join(str(v) for v in value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.edit.textChanged.connect(lambda _=None: slot())


class _TextEditor(_Editor):
    def __init__(self) -> None:
        super().__init__(QLineEdit())
        self.edit: QLineEdit = self.widget  # type: ignore[assignment]

    def value(self) -> str:
        return self.edit.text().strip()

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.edit.textChanged.connect(lambda _=None: slot())


class _OptionalEditor(_Editor):
    """A check box enabling an inner editor; unchecked means ``None``."""

    def __init__(self, inner: _Editor, fallback: Any, tooltip: str) -> None:
        container = QWidget()
        super().__init__(container)
        self.inner = inner
        self.check = QCheckBox()
        self.check.setToolTip("Tick to set a value; unticked means none. " + tooltip)
        layout = QHBoxLayout(container)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(inner.widget, 1)
        self.check.toggled.connect(inner.widget.setEnabled)
        inner.set_value(fallback)
        inner.widget.setEnabled(False)

    def value(self) -> Any:
        return self.inner.value() if self.check.isChecked() else None

    def set_value(self, value: Any) -> None:
        self.check.setChecked(value is not None)
        if value is not None:
            self.inner.set_value(value)

    def connect(self, slot: Callable[[], None]) -> None:
        self.check.toggled.connect(lambda _=None: slot())
        self.inner.connect(slot)


def _make_editor(field: dataclasses.Field, annotation: Any) -> _Editor:
    meta = field.metadata
    base, optional = _resolve(annotation)
    default = None if field.default is dataclasses.MISSING else field.default
    if "choices" in meta:
        editor: _Editor = _ChoiceEditor(meta["choices"])
    elif base is bool:
        editor = _BoolEditor(humanise(field.name))
    elif base is int:
        low = meta.get("minimum", 0 if (default or 0) >= 0 else -INT_LIMIT)
        editor = _IntEditor(int(low), int(meta.get("maximum", INT_LIMIT)))
    elif base is float:
        low = meta.get("minimum", 0.0 if (default or 0) >= 0 else -FLOAT_LIMIT)
        editor = _FloatEditor(float(low), float(meta.get("maximum", FLOAT_LIMIT)),
                              meta.get("step"))
    elif typing.get_origin(base) is tuple:
        args = [a for a in typing.get_args(base) if a is not Ellipsis]
        editor = _TupleEditor(args[0] if args else int)
    else:
        editor = _TextEditor()
    if optional:
        fallback = meta.get("minimum", 1) if default is None else default
        return _OptionalEditor(editor, fallback, meta.get("help", ""))
    if default is not None:
        editor.set_value(default)
    return editor


class ConfigForm(QWidget):
    """Editors for the fields of a config dataclass, laid out in a two-column form.

    Parameters
    ----------
    config_cls
        A dataclass whose fields carry ``help`` / ``choices`` / ``minimum`` / ``maximum``
        metadata (see :func:`aestudio.core.config.option`).
    hidden
        Field names the caller sets itself (e.g. ``channels``, ``image_size``): not shown and
        left out of :meth:`values`.
    only
        When given, only these fields are shown (the rest are hidden).
    """

    changed = Signal()

    def __init__(self, config_cls: type, parent: QWidget | None = None, *,
                 hidden: Iterable[str] = (), only: Iterable[str] | None = None) -> None:
        super().__init__(parent)
        if not dataclasses.is_dataclass(config_cls):
            raise TypeError(f"{config_cls!r} is not a dataclass")
        self.config_cls = config_cls
        self._fields = [f for f in dataclasses.fields(config_cls) if f.init]
        hints = typing.get_type_hints(config_cls)
        self._editors: dict[str, _Editor] = {}
        self._labels: dict[str, QLabel | None] = {}
        self._hidden: set[str] = set()
        self._hidden_values: dict[str, Any] = {}
        self._context: dict[str, Any] = {}
        self._field_errors: dict[str, str] = {}
        self._problem: str | None = None
        self._last_good: dict[str, Any] = {}
        self._updating = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        outer.addLayout(self.form)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        outer.addWidget(self.error_label)

        for field in self._fields:
            editor = _make_editor(field, hints.get(field.name, str))
            tip = field.metadata.get("help", "")
            editor.widget.setToolTip(tip)
            if isinstance(editor, _BoolEditor):
                self.form.addRow(editor.widget)
                self._labels[field.name] = None
            else:
                label = QLabel(humanise(field.name))
                label.setToolTip(tip)
                label.setBuddy(editor.widget)
                self.form.addRow(label, editor.widget)
                self._labels[field.name] = label
            editor.connect(lambda name=field.name: self._on_edit(name))
            self._editors[field.name] = editor

        names = set(self._editors)
        hide = set(hidden)
        if only is not None:
            hide |= names - set(only)
        self.set_hidden(hide)

    # -- public API ----------------------------------------------------------------------
    def field_names(self, include_hidden: bool = False) -> list[str]:
        """The fields in declaration order, hidden ones only when asked."""
        return [f.name for f in self._fields if include_hidden or f.name not in self._hidden]

    def editor(self, name: str) -> QWidget:
        """The widget editing ``name`` (for tests and for focusing)."""
        return self._editors[name].widget

    def set_hidden(self, names: Iterable[str]) -> None:
        """Hide these fields (the caller sets them); the others are shown."""
        self._hidden = {n for n in names if n in self._editors}
        for name, editor in self._editors.items():
            self.form.setRowVisible(editor.widget, name not in self._hidden)
        self._validate()

    def values(self, include_hidden: bool = False) -> dict[str, Any]:
        """Current values by field name.

        A field whose text cannot be read keeps its last good value (see :meth:`errors`).
        Hidden fields are left out unless ``include_hidden``; their value then is the one
        given to :meth:`set_values`, or the editor's default.
        """
        result: dict[str, Any] = {}
        for name, editor in self._editors.items():
            if name in self._hidden and not include_hidden:
                continue
            if name in self._hidden and name in self._hidden_values:
                result[name] = self._hidden_values[name]
                continue
            try:
                result[name] = editor.value()
            except ValueError:
                result[name] = self._last_good.get(name, self._default(name))
        return result

    def set_values(self, values: dict[str, Any]) -> list[str]:
        """Show ``values``; keys the form does not know are ignored and returned.

        A value an editor cannot show (not one of the choices) is reported in the form's
        error line instead of raising.
        """
        unknown = []
        problems = []
        self._updating = True
        try:
            for name, value in values.items():
                editor = self._editors.get(name)
                if editor is None:
                    unknown.append(name)
                    continue
                if name in self._hidden:
                    self._hidden_values[name] = value
                try:
                    editor.set_value(value)
                except (ValueError, TypeError) as exc:
                    problems.append(f"{humanise(name)}: {exc}")
        finally:
            self._updating = False
        self._validate()
        if problems:
            self._show_problem("; ".join(problems))
        self.changed.emit()
        return unknown

    def set_context(self, values: dict[str, Any]) -> None:
        """Values of hidden fields used only to check the whole config (e.g. image_size)."""
        self._context = dict(values)
        self._validate()

    def errors(self) -> dict[str, str]:
        """Fields whose text cannot be read, with the reason."""
        return dict(self._field_errors)

    def problem(self) -> str | None:
        """The first thing wrong with the form, as one line, or None when it is valid."""
        return self._problem

    def is_valid(self) -> bool:
        return self._problem is None

    # -- internals -----------------------------------------------------------------------
    def _default(self, name: str) -> Any:
        field = next(f for f in self._fields if f.name == name)
        return None if field.default is dataclasses.MISSING else field.default

    def _on_edit(self, name: str) -> None:
        if self._updating:
            return
        if name in self._hidden:
            self._hidden_values.pop(name, None)
        self._validate()
        self.changed.emit()

    def _validate(self) -> None:
        self._field_errors = {}
        for name, editor in self._editors.items():
            try:
                self._last_good[name] = editor.value()
                ok = True
            except ValueError as exc:
                self._field_errors[name] = str(exc)
                ok = False
            if isinstance(editor, _TupleEditor):
                editor.edit.setStyleSheet("" if ok else INVALID_EDIT_STYLE)
        if self._field_errors:
            self._show_problem("; ".join(f"{humanise(n)} {m}"
                                         for n, m in self._field_errors.items()))
            return
        try:
            from_dict(self.config_cls, {**self.values(include_hidden=True), **self._context})
        except Exception as exc:  # any refusal of the config class is shown, never raised
            self._show_problem(str(exc).strip().splitlines()[0] if str(exc).strip()
                               else type(exc).__name__)
            return
        self._show_problem(None)

    def _show_problem(self, text: str | None) -> None:
        self._problem = text
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))
