"""Small controls of the compare view: a flow layout, a labelled slider, a noise picker.

The noise picker writes ``core.noise`` spec strings ("gaussian:25") without importing the
engine (which needs torch); the worker that adds the noise parses and checks them.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSlider,
    QToolButton,
    QWidget,
)

# Per kind: (label, minimum, maximum, step, default, decimals) of each parameter.
_NOISE_PARAMS: dict[str, tuple[tuple[str, float, float, float, float, int], ...]] = {
    "none": (),
    "gaussian": (("σ", 0.0, 150.0, 1.0, 25.0, 1),),
    "poisson-gaussian": (("photons", 1.0, 5000.0, 5.0, 30.0, 0), ("σ", 0.0, 100.0, 1.0, 5.0, 1)),
    "salt-pepper": (("fraction", 0.0, 1.0, 0.01, 0.05, 3),),
    "speckle": (("std", 0.0, 2.0, 0.05, 0.2, 2),),
}
_KIND_TIPS = {
    "none": "Show the image as it is.",
    "gaussian": "Additive Gaussian noise; σ on the 0-255 scale.",
    "poisson-gaussian": "Shot noise with this many photons at white, plus Gaussian read noise "
                        "σ on the 0-255 scale (like a camera sensor).",
    "salt-pepper": "This fraction of the pixels set to black or white.",
    "speckle": "Multiplicative noise x·(1 + n), n with this standard deviation.",
}
_KIND_NAMES = {
    "none": "No added noise",
    "gaussian": "Gaussian",
    "poisson-gaussian": "Poisson + Gaussian",
    "salt-pepper": "Salt & pepper",
    "speckle": "Speckle",
}


class FlowLayout(QLayout):
    """Lays widgets out left to right and wraps them onto new lines when space runs out.

    Rows of controls then stay usable in a narrow window (beside docked panels) instead of
    being squeezed until their labels overlap.
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = 10,
                 line_spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._line_spacing = line_spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt API)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt API)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt API)
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt API)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt API)
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt API)
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        width = sum(i.sizeHint().width() for i in self._visible()) + self._spacing * max(
            0, len(self._visible()) - 1)
        height = max((i.sizeHint().height() for i in self._visible()), default=0)
        return QSize(width, height)

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt API)
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not (i.widget() is not None and i.widget().isHidden())]

    def _arrange(self, rect: QRect, move: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = area.x()
        for item in self._visible():
            hint = item.sizeHint()
            if lines[-1] and x + hint.width() > area.right() + 1:
                lines.append([])
                x = area.x()
            lines[-1].append((item, hint))
            x += hint.width() + self._spacing
        y = area.y()
        for line in lines:
            height = max((hint.height() for _, hint in line), default=0)
            x = area.x()
            for item, hint in line:
                if move:  # each item centred vertically on its line
                    top = y + (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(x, top), hint))
                x += hint.width() + self._spacing
            y += height + self._line_spacing
        return max(0, y - self._line_spacing - rect.y()) + margins.bottom()


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


class LabeledSlider(QWidget):
    """``Name [-----o----] 75%``: an integer slider with its value shown beside it."""

    valueChanged = Signal(int)  # noqa: N815 (mirrors QSlider)

    def __init__(self, label: str, minimum: int, maximum: int, value: int,
                 suffix: str = "%", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._suffix = suffix
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.label = QLabel(label)
        self.label.setVisible(bool(label))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(minimum, maximum)
        self.slider.setValue(value)
        self.slider.setMinimumWidth(120)
        self.slider.setMaximumWidth(260)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance(
            f"{maximum}{suffix}") + 4)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_label)
        layout.addStretch(1)  # the slider stops growing at its maximum width
        self.slider.valueChanged.connect(self._on_value)
        self._on_value(value, emit=False)

    def _on_value(self, value: int, emit: bool = True) -> None:
        self.value_label.setText(f"{value}{self._suffix}")
        if emit:
            self.valueChanged.emit(value)

    def value(self) -> int:
        return self.slider.value()

    def setValue(self, value: int) -> None:  # noqa: N802 (mirrors QSlider)
        self.slider.setValue(value)


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
        for kind, name in _KIND_NAMES.items():
            self.kind.addItem(name, kind)
            self.kind.setItemData(self.kind.count() - 1, _KIND_TIPS[kind],
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
        params = _NOISE_PARAMS.get(self.kind.currentData(), ())
        for i, (label, spin) in enumerate(self.params):
            visible = i < len(params)
            label.setVisible(visible)
            spin.setVisible(visible)
            if visible:
                name, low, high, step, default, decimals = params[i]
                spin.blockSignals(True)
                spin.setDecimals(decimals)
                spin.setRange(low, high)
                spin.setSingleStep(step)
                spin.setValue(default)
                spin.blockSignals(False)
                label.setText(name)
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
        count = len(_NOISE_PARAMS.get(kind, ()))
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
        if kind not in _NOISE_PARAMS or len(values) != len(_NOISE_PARAMS[kind]):
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
