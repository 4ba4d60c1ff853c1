"""Small controls of the denoising views: labelled sliders and a synthetic-noise picker.

The noise picker writes the engine's noise spec strings ("gaussian:25"); its kinds,
parameter names and defaults come from the engine's torch-free syntax table
(:mod:`aestudio.core.data.noise_syntax`), and the worker that adds the noise parses and
checks them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)
from superqt import QLabeledSlider

from aestudio.core.data.noise_syntax import (
    NOISE_KINDS,
    NOISE_PARAMS,
    NOISE_SYNTAX,
    PARAM_RANGES,
    noise_defaults,
)

# How each engine parameter is shown here: (label, decimals); its range is the one the
# training panel's noise controls use (PARAM_RANGES), so both pickers accept the same values.
_PARAM_LABELS: dict[str, tuple[str, int]] = {
    "SIGMA": ("σ", 1),
    "PEAK": ("photons", 2),
    "FRACTION": ("fraction", 3),
    "STD": ("std", 2),
}
_KIND_NAMES = {
    "none": "No added noise",
    "gaussian": "Gaussian",
    "poisson-gaussian": "Poisson + Gaussian",
    "salt-pepper": "Salt & pepper",
    "speckle": "Speckle",
}


def labeled_slider(minimum: int, maximum: int, value: int, suffix: str = "%",
                   parent: QWidget | None = None) -> QLabeledSlider:
    """A horizontal integer slider with its editable value beside it (``[----o---] 75%``).

    Parameters
    ----------
    minimum, maximum, value : int
        Range and start value.
    suffix : str
        Shown after the value.
    parent : QWidget, optional

    Returns
    -------
    superqt.QLabeledSlider
    """
    slider = QLabeledSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(minimum, maximum)
    slider.setValue(value)
    slider.setMinimumWidth(160)
    slider.setMaximumWidth(320)
    value_box = slider.findChild(QLineEdit)  # superqt's value label takes a suffix
    if value_box is not None and hasattr(value_box, "setSuffix"):
        value_box.setSuffix(suffix)
    return slider


def named(label: str, widget: QWidget) -> QWidget:
    """``label`` and ``widget`` side by side in one box (hide the box to hide both)."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(6)
    layout.addWidget(QLabel(label))
    layout.addWidget(widget, 1)
    return box


def format_spec(kind: str, values: list[float] | tuple[float, ...]) -> str:
    """``"gaussian:25"`` from a kind and its parameters (whole numbers without ``.0``)."""
    if not values:
        return kind
    return f"{kind}:" + ",".join(f"{v:g}" for v in values)


def split_spec(spec: str) -> tuple[str, list[float]]:
    """The kind (normalised) and parameters of a spec string such as ``"gaussian:25"``."""
    kind, _, params = spec.strip().partition(":")
    kind = kind.strip().lower().replace("_", "-")
    try:
        values = [float(v) for v in params.split(",")] if params.strip() else []
    except ValueError:
        raise ValueError(f"cannot read the numbers in the noise {spec!r}") from None
    return kind, values


class NoiseControl(QWidget):
    """Pick a synthetic noise to add to a clean image: kind, its parameters, and a seed.

    ``changed(spec)`` fires a moment after the last edit (a ``core.noise`` spec string), so
    dragging a spin box does not restart the denoising at every step.
    """

    changed = Signal(str)

    def __init__(self, parent: QWidget | None = None, delay_ms: int = 180) -> None:
        super().__init__(parent)
        self.seed = 0
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(QLabel("Add noise"))
        self.kind = QComboBox()
        for kind in NOISE_KINDS:
            self.kind.addItem(_KIND_NAMES.get(kind, kind), kind)
            self.kind.setItemData(self.kind.count() - 1, NOISE_SYNTAX.get(kind, kind),
                                  Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip("Add synthetic noise to a clean image to see how the model copes; "
                             "the clean image then serves as the reference for PSNR and SSIM.")
        layout.addWidget(self.kind)
        self.params: list[tuple[QLabel, QDoubleSpinBox]] = []
        for _ in range(2):
            label, spin = QLabel(), QDoubleSpinBox()
            spin.setKeyboardTracking(False)
            layout.addWidget(label)
            layout.addWidget(spin)
            spin.valueChanged.connect(self._schedule)
            self.params.append((label, spin))
        self.reroll = QToolButton()
        self.reroll.setText("New sample")
        self.reroll.setToolTip("Draw a different noise sample (the same settings always give "
                               "the same noise until you press this).")
        self.reroll.clicked.connect(self._new_seed)
        layout.addWidget(self.reroll)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(lambda: self.changed.emit(self.spec()))
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def _kind_changed(self, *_: object) -> None:
        kind = self.kind.currentData()
        names = NOISE_PARAMS.get(kind, ())
        defaults = noise_defaults(kind) if kind in NOISE_PARAMS else ()
        for i, (label, spin) in enumerate(self.params):
            visible = i < len(names)
            label.setVisible(visible)
            spin.setVisible(visible)
            if visible:
                text, decimals = _PARAM_LABELS.get(names[i], (names[i].lower(), 2))
                low, high, step = PARAM_RANGES.get(names[i], (0.0, 1e6, 0.0))
                spin.blockSignals(True)
                spin.setDecimals(decimals)
                spin.setRange(low, high)
                spin.setSingleStep(step or 1.0)
                spin.setValue(defaults[i])
                spin.blockSignals(False)
                label.setText(text)
        self.reroll.setVisible(self.kind.currentData() != "none")
        self._schedule()

    def _schedule(self, *_: object) -> None:
        self._timer.start()

    def _new_seed(self) -> None:
        self.seed += 1
        self._schedule()

    def spec(self) -> str:
        """The current noise as a spec string, e.g. ``"gaussian:25"``."""
        kind = self.kind.currentData()
        count = len(NOISE_PARAMS.get(kind, ()))
        values = [spin.value() for _, spin in self.params[:count]]
        return format_spec(kind, values)

    def set_spec(self, spec: str) -> None:
        """Show ``spec`` (e.g. ``"gaussian:25"``) and emit ``changed`` after the delay.

        Raises
        ------
        ValueError
            For a kind this control does not know or a wrong number of parameters.
        """
        kind, values = split_spec(spec)
        if kind not in NOISE_PARAMS or len(values) != len(NOISE_PARAMS[kind]):
            raise ValueError(f"cannot show the noise {spec!r}; e.g. 'gaussian:25'")
        self.kind.setCurrentIndex(self.kind.findData(kind))
        for (_, spin), value in zip(self.params, values, strict=False):
            spin.setValue(value)
        self._schedule()

    def flush(self) -> None:
        """Emit a pending change now."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit(self.spec())
