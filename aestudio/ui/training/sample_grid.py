"""A live grid of validation samples: input, noisy input (when there is noise) and output.

Each column is one sample; each row is labelled. Images are enlarged by whole factors with
nearest-neighbour, so 28 x 28 digits stay crisp and readable. New samples arrive about once a
second from the trainer; the grid redraws at most once per :data:`MIN_INTERVAL_S` and always
shows the newest samples.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from aestudio.ui.common.image_convert import array_to_qimage

MAX_SAMPLES = 8
# Row labels (clean, noisy, output) by training task; None leaves a row out. In the
# self-supervised task the images are the noisy data, so the "clean" row is the input.
ROW_LABELS: dict[str, tuple[str, str | None, str]] = {
    "reconstruct": ("input", None, "output"),
    "denoise": ("clean", "noisy input", "output"),
    "self-supervised": ("noisy input", None, "output"),
}
MIN_INTERVAL_S = 0.9
GAP = 6
MARGIN = 8


class SampleGrid(QWidget):
    """Rows of sample images with labels on the left and the training step on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(120)
        self._rows: list[tuple[str, list[QImage]]] = []
        self._step: int | None = None
        self._pending: tuple[int, np.ndarray, np.ndarray | None, np.ndarray, str | None] \
            | None = None
        self._last_refresh = -math.inf
        self.refresh_count = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._apply_pending)
        self.placeholder = "Sample inputs and outputs appear here while a model trains."

    # -- public API ----------------------------------------------------------------------
    def show_samples(self, step: int, clean: np.ndarray, noisy: np.ndarray | None,
                     output: np.ndarray, task: str | None = None) -> None:
        """Queue new samples (arrays (n, H, W, C) in [0, 1]); shown now or within a second.

        ``task`` (``reconstruct``, ``denoise``, ``self-supervised``) picks the row labels;
        without it, a noisy row is shown whenever ``noisy`` is given.
        """
        self._pending = (step, clean, noisy, output, task)
        wait = MIN_INTERVAL_S - (time.monotonic() - self._last_refresh)
        if wait <= 0:
            self._apply_pending()
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def flush(self) -> None:
        """Show queued samples at once (for the end of a run)."""
        self._timer.stop()
        self._apply_pending()

    def clear(self) -> None:
        """Remove every image and show the placeholder."""
        self._timer.stop()
        self._pending = None
        self._rows = []
        self._step = None
        self.update()

    def row_labels(self) -> list[str]:
        """The labels of the rows shown (empty before the first samples)."""
        return [label for label, _ in self._rows]

    def column_count(self) -> int:
        return max((len(images) for _, images in self._rows), default=0)

    @property
    def step(self) -> int | None:
        return self._step

    # -- internals -----------------------------------------------------------------------
    def _apply_pending(self) -> None:
        if self._pending is None:
            return
        step, clean, noisy, output, task = self._pending
        self._pending = None
        default = "denoise" if noisy is not None else "reconstruct"
        clean_label, noisy_label, output_label = ROW_LABELS.get(task or default,
                                                                ROW_LABELS[default])
        rows = [(clean_label, clean)]
        if noisy is not None and noisy_label is not None:
            rows.append((noisy_label, noisy))
        rows.append((output_label, output))
        self._rows = [(label, [array_to_qimage(a) for a in np.asarray(arr)[:MAX_SAMPLES]])
                      for label, arr in rows]
        self._step = int(step)
        self._last_refresh = time.monotonic()
        self.refresh_count += 1
        self.update()

    def _cell_layout(self) -> tuple[int, int, int, int, int]:
        """Label width, header height, image width, image height and row height."""
        metrics = self.fontMetrics()
        label_w = max(metrics.horizontalAdvance(label) for label, _ in self._rows) + GAP * 2
        header_h = metrics.height() + GAP
        columns = max(1, self.column_count())
        first = self._rows[0][1][0]
        src_w, src_h = max(1, first.width()), max(1, first.height())
        avail_w = (self.width() - 2 * MARGIN - label_w - GAP * (columns - 1)) / columns
        avail_h = (self.height() - 2 * MARGIN - header_h - GAP * (len(self._rows) - 1)) \
            / len(self._rows)
        factor = min(avail_w / src_w, avail_h / src_h)
        if factor >= 1:
            factor = math.floor(factor)  # whole factors keep pixels square and crisp
        factor = max(factor, 0.05)
        img_w, img_h = max(1, round(src_w * factor)), max(1, round(src_h * factor))
        return label_w, header_h, img_w, img_h, img_h + GAP

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt override
        painter = QPainter(self)
        try:
            palette = self.palette()
            painter.fillRect(self.rect(), palette.base())
            painter.setPen(palette.text().color())
            if not self._rows or not self._rows[0][1]:
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
                return
            label_w, header_h, img_w, img_h, row_h = self._cell_layout()
            painter.drawText(QRect(MARGIN, MARGIN, self.width() - 2 * MARGIN, header_h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             f"Validation samples at step {self._step}")
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                                  img_w < self._rows[0][1][0].width())
            top = MARGIN + header_h
            for r, (label, images) in enumerate(self._rows):
                y = top + r * row_h
                painter.drawText(QRect(MARGIN, y, label_w - GAP, img_h),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 label)
                for c, image in enumerate(images):
                    x = MARGIN + label_w + c * (img_w + GAP)
                    painter.drawImage(QRect(x, y, img_w, img_h), image)
        finally:
            painter.end()
