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
import typing
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from aestudio.core.config import from_dict
from aestudio.ui.common.field_editors import (
    BoolEditor,
    FieldEditor,
    TupleEditor,
    humanise,
    make_editor,
)
from aestudio.ui.common.sci_spinbox import SciSpinBox, format_float, nice_steps

# Kept importable from here: the panels and tests use these names through this module.
__all__ = ["ConfigForm", "SciSpinBox", "format_float", "humanise", "nice_steps"]

ERROR_STYLE = "color: #b00020;"
INVALID_EDIT_STYLE = "QLineEdit { border: 1px solid #b00020; }"


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
        self._editors: dict[str, FieldEditor] = {}
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
            editor = make_editor(field, hints.get(field.name, str))
            tip = field.metadata.get("help", "")
            editor.widget.setToolTip(tip)
            if isinstance(editor, BoolEditor):
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
            if isinstance(editor, TupleEditor):
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
