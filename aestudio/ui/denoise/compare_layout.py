"""The compare view's widgets: building them, and keeping panes, titles and controls current.

:class:`CompareLayout` is mixed into :class:`~aestudio.ui.denoise.compare_view.CompareView`;
it only arranges and updates widgets, reading the view's state.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from aestudio.ui.denoise.compare_canvas import ImageCanvas, ImagePane
from aestudio.ui.denoise.compare_controls import NoiseControl, labeled_slider, named
from aestudio.ui.denoise.compare_panes import SplitPane, ViewLink

MODES = ("side", "split", "residual")
_MODE_NAMES = {"side": "Side by side", "split": "Split", "residual": "Residual"}


def _group(*widgets: QWidget) -> QWidget:
    """Widgets kept side by side on one line of a flow layout."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    for widget in widgets:
        layout.addWidget(widget)
    return box


def _flow(spacing: int) -> QFlowLayout:
    """A layout that wraps its widgets onto more lines in a narrow window."""
    layout = QFlowLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setHorizontalSpacing(spacing)
    layout.setVerticalSpacing(4)
    return layout


def _flow_widget(layout: QFlowLayout) -> QWidget:
    box = QWidget()
    box.setLayout(layout)
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    box.setSizePolicy(policy)
    return box


def _pane_box(title: QLabel, pane: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(3)
    layout.addWidget(title)
    layout.addWidget(pane, 1)
    return box




class CompareLayout:
    """Builds the compare view's widgets and keeps them in line with its state."""

    def _build(self) -> None:
        self.noisy_canvas = ImageCanvas(self)
        self.output_canvas = ImageCanvas(self)
        self.residual_canvas = ImageCanvas(self)
        self.reference_canvas = ImageCanvas(self)
        self.noisy_canvas.placeholder = ("Drop an image here, or use Open image.\n"
                                         "Drop a model file (.aemodel) to denoise it.")
        self.output_canvas.placeholder = "Open a model (.aemodel) to denoise the image."
        self.panes = {
            "noisy": ImagePane([self.noisy_canvas]),
            "output": ImagePane([self.output_canvas]),
            "reference": ImagePane([self.reference_canvas]),
            "residual": ImagePane([self.residual_canvas]),
            "split": SplitPane(self.noisy_canvas, self.output_canvas, ("Input", "Denoised")),
        }
        self.link = ViewLink(self)
        for pane in self.panes.values():
            self.link.add(pane)
        self.link.changed.connect(self._on_view_changed)

        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)

        # Rows of controls flow onto more lines in a narrow window (beside docked panels).
        top = _flow(14)
        self.open_image_button = QPushButton("Open image…")
        self.open_image_button.setToolTip("Open a photo or scan (PNG, JPEG, TIFF, 8 or 16 bit). "
                                          "You can also drop it onto the view.")
        self.open_image_button.clicked.connect(self._choose_image)
        self.open_model_button = QPushButton("Open model…")
        self.open_model_button.setToolTip("Open a trained model file (.aemodel); no retraining "
                                          "is needed to denoise new images.")
        self.open_model_button.clicked.connect(self._choose_model)
        self.reference_button = QPushButton("Reference…")
        self.reference_button.setToolTip("Open the clean version of this image, to score the "
                                         "result with PSNR and SSIM.")
        self.reference_button.clicked.connect(self._choose_reference)
        self.clear_reference_button = QToolButton()
        self.clear_reference_button.setText("✕")
        self.clear_reference_button.setToolTip("Forget the reference image")
        self.clear_reference_button.clicked.connect(lambda: self.set_reference(None))
        self.save_button = QPushButton("Save result…")
        self.save_button.setToolTip("Save the denoised image as shown (strengths included), "
                                    "in the photo's bit depth with its metadata and a sidecar; "
                                    "never over the photo.")
        self.save_button.clicked.connect(self._choose_save)
        top.addWidget(_group(self.open_image_button, self.open_model_button,
                             self.reference_button, self.clear_reference_button,
                             self.save_button))
        self.mode_group = QButtonGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_buttons: dict[str, QToolButton] = {}
        tips = {
            "side": "The input, the denoised image and the clean reference side by side.",
            "split": "One image with a divider: input on the left, denoised on the right. "
                     "Drag the divider.",
            "residual": "What the model removed (input minus denoised), amplified. Edges or "
                        "texture here mean the model removed or invented detail.",
        }
        mode_buttons = []
        for mode in MODES:
            button = QToolButton()
            button.setText(_MODE_NAMES[mode])
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            mode_buttons.append(button)
        self.mode_buttons["side"].setChecked(True)
        top.addWidget(_group(*mode_buttons))
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show the whole image (Ctrl+0)")
        self.fit_button.clicked.connect(self.fit)
        self.one_button = QToolButton()
        self.one_button.setText("1:1")
        self.one_button.setToolTip("One image pixel per screen pixel, to judge grain (Ctrl+1)")
        self.one_button.clicked.connect(self.one_to_one)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("6400%"))
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(_group(self.fit_button, self.one_button, self.zoom_label))
        root.addWidget(_flow_widget(top))
        for keys, slot in (("Ctrl+0", self.fit), ("Ctrl+1", self.one_to_one)):
            shortcut = QShortcut(QKeySequence(keys), self, slot)
            # Only while this view has focus: other tabs may use the same keys.
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        controls = _flow(16)
        self.amount_slider = labeled_slider(0, 100, 100)
        self.amount_slider.setToolTip("How much of the denoising to apply: 0% shows the input, "
                                      "100% the model's output.")
        self.amount_slider.valueChanged.connect(lambda v: self.set_amount(v / 100))
        self.amount_box = named("Amount", self.amount_slider)
        controls.addWidget(self.amount_box)
        self.luma_slider = labeled_slider(0, 100, 100)
        self.luma_slider.setToolTip("Strength on brightness noise; lower it to keep film grain.")
        self.chroma_slider = labeled_slider(0, 100, 100)
        self.chroma_slider.setToolTip("Strength on colour noise (blotches of colour).")
        self.luma_slider.valueChanged.connect(lambda v: self.set_film_strengths(luma=v / 100))
        self.chroma_slider.valueChanged.connect(
            lambda v: self.set_film_strengths(chroma=v / 100))
        self.luma_box = named("Luma", self.luma_slider)
        self.chroma_box = named("Chroma", self.chroma_slider)
        controls.addWidget(self.luma_box)
        controls.addWidget(self.chroma_box)
        self.gain_slider = labeled_slider(1, 32, int(self.gain), suffix="×")
        self.gain_slider.setToolTip("Amplification of the residual; grey means nothing removed.")
        self.gain_slider.valueChanged.connect(lambda v: self.set_residual_gain(float(v)))
        self.gain_box = named("Gain", self.gain_slider)
        controls.addWidget(self.gain_box)
        self.noise_control = NoiseControl()
        self.noise_control.changed.connect(self._on_noise_control)
        controls.addWidget(self.noise_control)
        root.addWidget(_flow_widget(controls))

        status = _flow(16)
        self.image_label = QLabel("No image")
        self.image_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_label = QLabel("No model")
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(self.progress.fontMetrics().horizontalAdvance(
            "Denoising 9999/9999") + 24)
        self.progress.setFormat("Denoising %v/%m")
        self.progress.setToolTip("The part on screen is denoised first; pan to move it.")
        self.progress.setVisible(False)
        self.state_label = QLabel("")
        self.metrics_label = QLabel("")
        self.metrics_label.setToolTip("PSNR (dB, higher is better) and SSIM (1 is identical) "
                                      "against the clean image; the input's own scores in "
                                      "brackets.")
        for w in (self.image_label, self.model_label, self.progress, self.state_label,
                  self.metrics_label):
            status.addWidget(w)
        root.addWidget(_flow_widget(status))

        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(
            "QLabel { background: rgba(255, 196, 0, 40); border: 1px solid rgba(200, 150, 0, "
            "120); border-radius: 4px; padding: 4px 8px; }")
        self.note_label.setVisible(False)
        root.addWidget(self.note_label)

        panes = QHBoxLayout()
        panes.setSpacing(6)
        self.titles = {name: QLabel() for name in self.panes}
        self.boxes: dict[str, QWidget] = {}
        for name, pane in self.panes.items():
            title = self.titles[name]
            font = title.font()
            font.setBold(True)
            title.setFont(font)
            self.boxes[name] = _pane_box(title, pane)
            panes.addWidget(self.boxes[name], 1)
        root.addLayout(panes, 1)


    def visible_panes(self) -> list[str]:
        """Names of the panes shown now, e.g. ``["noisy", "output"]``."""
        return [name for name, box in self.boxes.items() if not box.isHidden()]

    def _lead_pane(self) -> ImagePane:
        visible = [self.panes[n] for n in self.visible_panes()]
        leader = self.link.leader
        if leader is not None and leader in visible:
            return leader
        return visible[0] if visible else self.panes["noisy"]

    def _update_panes(self) -> None:
        has_reference = self._reference is not None or self.reference_image is not None
        if self.image is None:
            shown = {"noisy"}  # one drop target that says what to do
        elif self.mode == "split":
            shown = {"split"}
        elif self.mode == "residual":
            shown = {"noisy", "output", "residual"}
        else:
            shown = {"noisy", "output"} | ({"reference"} if has_reference else set())
        for name, box in self.boxes.items():
            box.setVisible(name in shown)
        if self.link.leader is not None and self.link.leader not in [
                self.panes[n] for n in shown]:
            self.link.leader = self.panes["split" if self.mode == "split" else "noisy"]
        self._update_titles()
        self._update_controls()

    def _update_titles(self) -> None:
        autoencoder = self.loaded is not None and self.loaded.model.kind == "autoencoder"
        output = "Reconstructed" if autoencoder else "Denoised"
        if self.loaded is not None and self.amount < 1.0:
            output += f" · amount {round(self.amount * 100)}%"
        if self.loaded is not None and (self.luma < 1.0 or self.chroma < 1.0):
            output += f" · luma {round(self.luma * 100)}%, chroma {round(self.chroma * 100)}%"
        noisy = "Input"
        if self.noise != "none":
            noisy = f"Input + {self.noise} noise"
        clean = "Clean (before added noise)" if self.reference_image is None else "Clean reference"
        self.titles["noisy"].setText(noisy)
        self.titles["output"].setText(output)
        self.titles["reference"].setText(clean)
        self.titles["residual"].setText(f"Residual: input − {output.split(' ·')[0].lower()}, "
                                        f"×{self.gain:g}")
        split_title = f"Split: {noisy.lower()} ◂ drag the divider ▸ {output.lower()}"
        self.titles["split"].setText(split_title)
        split = self.panes["split"]
        assert isinstance(split, SplitPane)
        split.labels = ("Input", "Reconstructed" if autoencoder else "Denoised")
        split.viewport().update()

    def _update_controls(self, *_: Any) -> None:
        has_model = self.loaded is not None
        self.amount_slider.setEnabled(has_model)
        # Separate strengths only mean something for colour images.
        film = has_model and (self.image is None or self.image.shape[2] == 3)
        self.luma_box.setVisible(film)
        self.chroma_box.setVisible(film)
        self.gain_box.setVisible(self.mode == "residual")
        self.reference_button.setEnabled(self.image is not None)
        self.clear_reference_button.setVisible(self.reference_image is not None)
        autoencoder = has_model and self.loaded.model.kind == "autoencoder"
        if autoencoder:
            size = self.loaded.model.image_size
            self.note_label.setText(
                f"This model is an autoencoder: it works on {size} × {size} images, so the "
                f"image is shown resized to {size} × {size} beside its reconstruction. Open a "
                "denoiser model to clean photos at full resolution.")
        self.note_label.setVisible(autoencoder)
        self.save_button.setEnabled(self.can_save())

    def _on_view_changed(self) -> None:
        pane = self._lead_pane()
        zoom = pane.zoom() / pane.one_to_one_zoom()
        self.zoom_label.setText(f"{zoom * 100:.0f}%")
        self._update_focus()

    def _update_focus(self) -> None:
        if self._noisy is None:
            return
        height, width = self._noisy.shape[:2]
        rect = self._lead_pane().visible_rect().intersected(QRectF(0, 0, width, height))
        if not rect.isEmpty():
            self.focus.set(rect.left(), rect.top(), rect.right(), rect.bottom())

