"""The config form: editors chosen from field metadata, round trips, inline errors."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from aestudio.core.config import DataConfig, TrainConfig, from_dict, option
from aestudio.core.models import get_entry, list_models
from aestudio.ui.common.config_form import ConfigForm, SciSpinBox, humanise, nice_steps


@dataclasses.dataclass(frozen=True)
class _Sample:
    """Every kind of field the form supports."""

    name: str = option("a", "Free text.")
    mode: str = option("x", "A choice.", choices=("x", "y", "z"))
    count: int = option(3, "A bounded integer.", minimum=1, maximum=9)
    rate: float = option(1e-3, "A learning-rate-like float.", minimum=1e-6, maximum=1.0)
    share: float = option(0.1, "A fraction.", minimum=0.0, maximum=0.5)
    flag: bool = option(True, "A switch.")
    widths: tuple[int, ...] = option((512, 256), "Layer widths.")
    budget: float | None = option(None, "Optional minutes.")
    channels: int = option(1, "Set by the caller.", choices=(1, 3))

    def __post_init__(self) -> None:
        if self.count > 5 and self.flag:
            raise ValueError("count above 5 needs flag off")


ALL_CONFIGS = [TrainConfig, DataConfig] + [e.config_cls for e in list_models()]


@pytest.mark.parametrize("config_cls", ALL_CONFIGS, ids=lambda c: c.__name__)
def test_form_builds_for_every_config_and_its_defaults_are_valid(qtbot, config_cls):
    form = ConfigForm(config_cls, hidden=("channels", "image_size"))
    qtbot.addWidget(form)
    assert form.is_valid(), form.problem()
    values = form.values()
    assert "channels" not in values and "image_size" not in values
    config = from_dict(config_cls, form.values(include_hidden=True))
    assert config == config_cls()
    for field in dataclasses.fields(config_cls):
        if field.name in values:
            assert form.editor(field.name).toolTip() == field.metadata.get("help", "")


@pytest.mark.parametrize("name", [e.name for e in list_models()])
def test_every_model_form_round_trips_changed_values(qtbot, name):
    entry = get_entry(name)
    form = ConfigForm(entry.config_cls, hidden=("channels", "image_size"))
    qtbot.addWidget(form)
    changed = dict(form.values())
    for key, value in list(changed.items()):
        field = entry.config_cls.__dataclass_fields__[key]
        if "choices" in field.metadata:
            changed[key] = field.metadata["choices"][-1]
        elif isinstance(value, bool):
            changed[key] = not value
        elif isinstance(value, int):
            changed[key] = min(value + 1, field.metadata.get("maximum", value + 1))
        elif isinstance(value, float):
            changed[key] = value + 0.25
        elif isinstance(value, tuple):
            changed[key] = (64, 32, 16)
    form.set_values(changed)
    assert form.values() == changed
    assert form.is_valid(), form.problem()


def test_editors_follow_field_types(qtbot):
    form = ConfigForm(_Sample)
    qtbot.addWidget(form)
    assert isinstance(form.editor("mode"), QComboBox)
    assert isinstance(form.editor("flag"), QCheckBox)
    count = form.editor("count")
    assert isinstance(count, QSpinBox) and (count.minimum(), count.maximum()) == (1, 9)
    rate = form.editor("rate")
    assert isinstance(rate, SciSpinBox) and rate.log_steps and rate.text() == "0.001"
    assert not form.editor("share").log_steps
    assert isinstance(form.editor("widths"), QLineEdit)
    assert form.editor("widths").text() == "512, 256"
    assert form.values()["budget"] is None
    assert humanise("latent_dim") == "Latent dim"


def test_round_trip_of_every_editor_kind(qtbot):
    form = ConfigForm(_Sample)
    qtbot.addWidget(form)
    values = {"name": "b", "mode": "z", "count": 4, "rate": 3e-4, "share": 0.25, "flag": False,
              "widths": (64, 8), "budget": 2.5, "channels": 3}
    with qtbot.waitSignal(form.changed):
        form.set_values(values)
    assert form.values() == values
    form.set_values({"budget": None})
    assert form.values()["budget"] is None


def test_optional_checkbox_enables_its_editor(qtbot):
    form = ConfigForm(_Sample)
    qtbot.addWidget(form)
    holder = form.editor("budget")
    check = holder.findChild(QCheckBox)
    spin = holder.findChild(SciSpinBox)
    assert not spin.isEnabled()
    with qtbot.waitSignal(form.changed):
        check.setChecked(True)
    assert spin.isEnabled()
    assert form.values()["budget"] == spin.value()


def test_invalid_text_is_shown_inline_and_never_raises(qtbot):
    form = ConfigForm(_Sample)
    qtbot.addWidget(form)
    form.show()
    form.editor("widths").setText("64, lots")
    assert "widths" in form.errors()
    assert not form.is_valid()
    assert "Widths" in form.problem()
    assert form.error_label.isVisible()
    assert "b00020" in form.editor("widths").styleSheet()
    assert form.values()["widths"] == (512, 256)  # the last good value
    form.editor("widths").setText("64, 32")
    assert form.is_valid() and not form.error_label.isVisible()
    assert form.values()["widths"] == (64, 32)


def test_a_combination_the_config_refuses_is_shown(qtbot):
    form = ConfigForm(_Sample)
    qtbot.addWidget(form)
    form.editor("count").setValue(7)
    assert form.problem() == "count above 5 needs flag off"
    form.editor("flag").setChecked(False)
    assert form.is_valid()


def test_context_of_hidden_fields_takes_part_in_the_check(qtbot):
    form = ConfigForm(get_entry("conv-ae").config_cls, hidden=("channels", "image_size"))
    qtbot.addWidget(form)
    form.set_values({"depth": 5})
    form.set_context({"image_size": 16})
    assert "too small" in (form.problem() or "")
    form.set_context({"image_size": 64})
    assert form.is_valid()


def test_hidden_fields_and_unknown_keys(qtbot):
    form = ConfigForm(_Sample, hidden=("channels",))
    qtbot.addWidget(form)
    unknown = form.set_values({"channels": 3, "nonsense": 1})
    assert unknown == ["nonsense"]
    assert "channels" not in form.values()
    assert form.values(include_hidden=True)["channels"] == 3
    assert "channels" not in form.field_names()
    only = ConfigForm(_Sample, only=("count", "flag"))
    qtbot.addWidget(only)
    assert only.field_names() == ["count", "flag"]


def test_a_value_outside_the_choices_is_reported_not_raised(qtbot):
    form = ConfigForm(_Sample)
    qtbot.addWidget(form)
    form.set_values({"mode": "nope"})
    assert "Mode" in form.problem()


def test_scientific_spin_box_reads_and_steps(qtbot):
    spin = SciSpinBox(log_steps=True)
    qtbot.addWidget(spin)
    spin.setRange(1e-6, 1.0)
    spin.setValue(1e-3)
    assert spin.validate("3e-4", 0) == QValidator.State.Acceptable
    assert spin.validate("1e-", 0) == QValidator.State.Intermediate
    assert spin.validate("5", 0) == QValidator.State.Intermediate  # above the maximum
    assert spin.validate("abc", 0) == QValidator.State.Invalid
    spin.lineEdit().setText("3e-4")
    spin.interpretText()
    assert spin.value() == pytest.approx(3e-4)
    spin.setValue(1e-3)
    spin.stepBy(1)
    assert spin.value() == pytest.approx(2e-3)
    spin.stepBy(-2)
    assert spin.value() == pytest.approx(5e-4)
    assert [nice_steps(1e-3, s) for s in (-1, 1, 2, 3)] == pytest.approx([5e-4, 2e-3, 5e-3,
                                                                          1e-2])
