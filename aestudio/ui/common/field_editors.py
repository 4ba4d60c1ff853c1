"""One editor per config field, picked by the field's type and ``option()`` metadata.

Used by :class:`aestudio.ui.common.config_form.ConfigForm`: each editor wraps a widget and
reads its value (``value`` raises :class:`ValueError` on text it cannot read).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QSpinBox, QWidget

from aestudio.ui.common.sci_spinbox import SciSpinBox

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e12


def humanise(name: str) -> str:
    """``latent_dim`` -> ``Latent dim``; a few abbreviations are kept as people write them."""
    special = {"lr": "Learning rate", "amp": "Mixed precision (AMP)", "hidden": "Hidden units",
               "arch": "Architecture"}
    if name in special:
        return special[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def resolve_type(annotation: Any) -> tuple[Any, bool]:
    """The field's base type and whether it is optional (``X | None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        return (args[0] if args else str), optional
    return annotation, False


class FieldEditor:
    """One field's editor: a widget plus value access; ``value`` raises ValueError on bad input."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def connect(self, slot: Callable[[], None]) -> None:
        raise NotImplementedError


class BoolEditor(FieldEditor):
    """A check box for a ``bool`` field."""

    def __init__(self, text: str) -> None:
        super().__init__(QCheckBox(text))
        self.box: QCheckBox = self.widget  # type: ignore[assignment]

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(bool(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.box.toggled.connect(lambda _=None: slot())


class ChoiceEditor(FieldEditor):
    """A combo box for a field with ``choices`` (shown by their ``labels`` where given)."""

    def __init__(self, choices: Iterable[Any], labels: dict[Any, str] | None = None) -> None:
        super().__init__(QComboBox())
        self.combo: QComboBox = self.widget  # type: ignore[assignment]
        self.choices = list(choices)
        for choice in self.choices:
            self.combo.addItem((labels or {}).get(choice, str(choice)))

    def value(self) -> Any:
        return self.choices[max(0, self.combo.currentIndex())]

    def set_value(self, value: Any) -> None:
        if value in self.choices:
            self.combo.setCurrentIndex(self.choices.index(value))
        else:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, self.choices))}")

    def connect(self, slot: Callable[[], None]) -> None:
        self.combo.currentIndexChanged.connect(lambda _=None: slot())


class IntEditor(FieldEditor):
    """A spin box for an ``int`` field, bounded by ``minimum`` and ``maximum``."""

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


class FloatEditor(FieldEditor):
    """A :class:`SciSpinBox` for a ``float`` field; wide ranges step 1-2-5."""

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


class TupleEditor(FieldEditor):
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


class TextEditor(FieldEditor):
    """A line edit for a text field."""

    def __init__(self) -> None:
        super().__init__(QLineEdit())
        self.edit: QLineEdit = self.widget  # type: ignore[assignment]

    def value(self) -> str:
        return self.edit.text().strip()

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def connect(self, slot: Callable[[], None]) -> None:
        self.edit.textChanged.connect(lambda _=None: slot())


class OptionalEditor(FieldEditor):
    """A check box enabling an inner editor; unchecked means ``None``."""

    def __init__(self, inner: FieldEditor, fallback: Any, tooltip: str) -> None:
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


def make_editor(field: dataclasses.Field, annotation: Any) -> FieldEditor:
    """The editor for ``field`` (of type ``annotation``), showing its default.

    Parameters
    ----------
    field : dataclasses.Field
        A config field declared with :func:`aestudio.core.config.option`.
    annotation
        Its resolved type.

    Returns
    -------
    FieldEditor
        A combo box for ``choices``, a check box for ``bool``, bounded spin boxes for numbers,
        a line edit for tuples and text; ``X | None`` adds a check box enabling it.
    """
    meta = field.metadata
    base, optional = resolve_type(annotation)
    default = None if field.default is dataclasses.MISSING else field.default
    if "choices" in meta:
        editor: FieldEditor = ChoiceEditor(meta["choices"], meta.get("choice_labels"))
    elif base is bool:
        editor = BoolEditor(humanise(field.name))
    elif base is int:
        low = meta.get("minimum", 0 if (default or 0) >= 0 else -INT_LIMIT)
        editor = IntEditor(int(low), int(meta.get("maximum", INT_LIMIT)))
    elif base is float:
        low = meta.get("minimum", 0.0 if (default or 0) >= 0 else -FLOAT_LIMIT)
        editor = FloatEditor(float(low), float(meta.get("maximum", FLOAT_LIMIT)),
                              meta.get("step"))
    elif typing.get_origin(base) is tuple:
        args = [a for a in typing.get_args(base) if a is not Ellipsis]
        editor = TupleEditor(args[0] if args else int)
    else:
        editor = TextEditor()
    if optional:
        fallback = meta.get("minimum", 1) if default is None else default
        return OptionalEditor(editor, fallback, meta.get("help", ""))
    if default is not None:
        editor.set_value(default)
    return editor

