"""The dataset panel: what is in the open folder, and what had to be left out.

Scanning reads image headers only (:func:`aestudio.core.data.scan.scan_folder`) in a
background job with a progress bar and Cancel. The panel then shows a virtualised grid of
thumbnails (see :mod:`aestudio.ui.dataset.thumbnails`), the number of images per label (click one
to show only its images), the size, mode and bit depth of the selected image, and the
skipped files with their reasons in a collapsible section.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QItemSelection,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from aestudio.ui.common.errors import show_error
from aestudio.ui.common.jobs import JobRelay, start_job
from aestudio.ui.common.workers import Worker, WorkerPool
from aestudio.ui.dataset.labels import NO_LABEL, LabelTable, section_title
from aestudio.ui.dataset.skipped import SkippedFiles
from aestudio.ui.dataset.thumbnails import (
    RecordRole,
    ThumbnailGrid,
    ThumbnailLoader,
    ThumbnailModel,
)

if TYPE_CHECKING:
    from aestudio.core.data.records import ImageRecord, ScanResult

DEFAULT_ICON = 56
NOISE_MIN_SIDE = 64  # smaller images (digits) hold too few pixels to estimate noise


def describe_record(record: ImageRecord) -> str:
    """One line about an image: size, channels and mode, bit depth and format."""
    info = record.info
    channels = "gray" if info.channels == 1 else "colour"
    return (f"{info.width} × {info.height} px  ·  {channels} ({info.mode})  ·  "
            f"{info.bit_depth}-bit  ·  {info.format}")


def noise_job(path: str):
    """The background job that estimates one image's noise (None when too small)."""

    def job(worker: Worker):
        from aestudio.core.data.noise_estimate import estimate_photo
        from aestudio.core.io.read import read_image

        return estimate_photo(read_image(path)[0])

    return job


def scan_job(folder: str):
    """The background job that scans ``folder`` (progress as ``("progress", done, total)``)."""

    def job(worker: Worker) -> ScanResult:
        from aestudio.core.data.scan import scan_folder

        return scan_folder(
            folder, stop=worker.stop_event,
            progress=lambda done, total: worker.emit_event(("progress", done, total)),
        )

    return job


class DatasetPanel(QWidget):
    """Browse the images of a folder before training on it.

    Parameters
    ----------
    pool : WorkerPool
        Runs the scan and the thumbnail decoding.

    Signals
    -------
    folder_loaded(str)
        A folder was scanned and is shown; the path of its root.
    scan_started(str)
        A scan of this folder began.
    status_message(str)
        A short sentence for the status bar.
    open_requested()
        The person asked to choose a folder (the empty page's button).
    """

    folder_loaded = Signal(str)
    scan_started = Signal(str)
    status_message = Signal(str)
    open_requested = Signal()

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DatasetPanel")
        self.pool = pool
        self._scan: ScanResult | None = None
        self._scan_relay: JobRelay | None = None
        self._scanning_folder: str | None = None
        self.loader = ThumbnailLoader(pool, parent=self)
        self.model = ThumbnailModel(self.loader, parent=self)
        self._build()
        self.skipped_model = self.skipped_section.model

    # -- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)

        # Long folder names end in an ellipsis instead of widening the dock.
        self.title = QElidingLabel("No folder open")
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        title_font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(title_font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel("")
        self.summary.setObjectName("summary")
        self.summary.setEnabled(False)  # the disabled colour reads as secondary text
        layout.addWidget(self.title)
        layout.addWidget(self.summary)

        # Progress of a scan, hidden otherwise.
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Scanning… %v / %m")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop scanning; the folder shown before stays open")
        self.cancel_button.clicked.connect(self.cancel_scan)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        layout.addWidget(self.progress_row)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_empty_page())
        self.pages.addWidget(self._build_content_page())
        layout.addWidget(self.pages, 1)

    def _build_empty_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.addStretch(1)
        hint = QLabel("Open a folder of images to train on.\n"
                      "Subfolder names become labels.\nYou can also drop a folder here.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        button = QPushButton("Open folder…")
        button.clicked.connect(self.open_requested)
        box.addWidget(hint)
        box.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(2)
        return page

    def _build_content_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)

        box.addWidget(section_title("Labels"))
        self.labels = LabelTable()
        self.labels.itemSelectionChanged.connect(self._on_label_selected)
        box.addWidget(self.labels)

        grid_header = QHBoxLayout()
        self.grid_title = section_title("Images")
        grid_header.addWidget(self.grid_title)
        grid_header.addStretch(1)
        zoom_icon = QLabel("Size")
        zoom_icon.setEnabled(False)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(32, 128)
        self.zoom.setSingleStep(8)
        self.zoom.setPageStep(16)
        self.zoom.setValue(DEFAULT_ICON)
        self.zoom.setFixedWidth(110)
        self.zoom.setToolTip("Thumbnail size")
        self.zoom.valueChanged.connect(self._set_icon_size)
        grid_header.addWidget(zoom_icon)
        grid_header.addWidget(self.zoom)
        box.addLayout(grid_header)

        self.grid = ThumbnailGrid()
        self.grid.setObjectName("thumbnailGrid")
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setModel(self.model)
        self.grid.set_thumbnail_size(DEFAULT_ICON)
        self.grid.selectionModel().selectionChanged.connect(self._on_image_selected)
        box.addWidget(self.grid, 1)

        self.image_info = QLabel("Select an image to see its size, mode and bit depth.")
        self.image_info.setObjectName("imageInfo")
        self.image_info.setWordWrap(True)
        self.image_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.image_info.setMinimumHeight(self.fontMetrics().lineSpacing() * 2 + 4)
        box.addWidget(self.image_info)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        box.addWidget(line)

        self.skipped_section = SkippedFiles()
        # The section's parts, by the names the rest of the panel and its tests use.
        self.skipped_toggle = self.skipped_section.toggle
        self.skipped_badge = self.skipped_section.badge
        self.skipped = self.skipped_section.table
        box.addWidget(self.skipped_section)
        return page

    # -- public API --------------------------------------------------------------------------
    def open_folder(self, folder: str | Path) -> None:
        """Scan ``folder`` in the background; the panel fills when it is done.

        A scan already running is cancelled. On failure a dialog says why and the folder
        shown before stays open.
        """
        folder = str(Path(folder).expanduser())
        self.cancel_scan()
        self._scanning_folder = folder
        relay = start_job(self.pool, scan_job(folder), "scan", parent=self)
        self._scan_relay = relay
        relay.event.connect(self._on_scan_event)
        relay.succeeded.connect(lambda result, r=relay: self._on_scan_done(r, result))
        relay.failed.connect(lambda message, details, r=relay:
                             self._on_scan_failed(r, message, details))
        relay.finished.connect(lambda r=relay: self._on_scan_finished(r))
        self.progress.setRange(0, 0)  # busy until the first count arrives
        self.progress.setValue(0)
        self.progress_row.show()
        self.cancel_button.setEnabled(True)
        self.scan_started.emit(folder)
        self.status_message.emit(f"Scanning {folder}…")

    def cancel_scan(self) -> None:
        """Stop a running scan (the folder shown before stays)."""
        if self._scan_relay is not None:
            self._scan_relay.request_stop()
            self.cancel_button.setEnabled(False)

    def is_scanning(self) -> bool:
        """True while a scan runs."""
        return self._scan_relay is not None

    def folder(self) -> str | None:
        """The root of the folder shown, or None."""
        return str(self._scan.root) if self._scan is not None else None

    def label_filter(self) -> str | None:
        """The label the grid is limited to, or None for all."""
        return self.model.label_filter()

    def set_label_filter(self, label: str | None) -> None:
        """Show only the images of ``label`` (None: all) and select its row."""
        for row in range(self.labels.rowCount()):
            item = self.labels.item(row, 0)
            if item.data(Qt.ItemDataRole.UserRole) == label:
                self.labels.selectRow(row)
                return
        self.model.set_label_filter(label)

    def set_skipped_expanded(self, expanded: bool) -> None:
        """Show or fold the list of skipped files."""
        self.skipped_section.set_expanded(expanded)

    def selected_record(self) -> ImageRecord | None:
        """The image selected in the grid, or None."""
        indexes = self.grid.selectionModel().selectedIndexes()
        return indexes[0].data(RecordRole) if indexes else None

    def shutdown(self) -> None:
        """Ask the scan and the thumbnail decoding to stop (the pool waits for them)."""
        self.cancel_scan()
        self.loader.shutdown()

    # -- scan results ------------------------------------------------------------------------
    @Slot(object)
    def _on_scan_event(self, event: Any) -> None:
        if isinstance(event, tuple) and event and event[0] == "progress":
            _, done, total = event
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _on_scan_done(self, relay: JobRelay, scan: ScanResult) -> None:
        if relay is not self._scan_relay:
            return
        self.show_scan(scan)
        self.folder_loaded.emit(str(scan.root))

    def _on_scan_failed(self, relay: JobRelay, message: str, details: str) -> None:
        if relay is not self._scan_relay:
            return
        if relay.stop_requested:
            self.status_message.emit("Scan cancelled")
            return
        self.status_message.emit(f"Cannot open the folder: {message}")
        show_error(self.window(), "Cannot open the folder", message, details)

    def _on_scan_finished(self, relay: JobRelay) -> None:
        if relay is self._scan_relay:
            self._scan_relay = None
            self._scanning_folder = None
            self.progress_row.hide()

    def show_scan(self, scan: ScanResult) -> None:
        """Fill the panel from a finished scan."""
        self._scan = scan
        root = Path(scan.root)
        self.title.setText(root.name or str(root))
        self.title.setToolTip(str(root))
        counts = scan.label_counts
        n_labels = len([label for label in counts if label])
        parts = [f"{len(scan.images):,} images"]
        if n_labels:
            parts.append(f"{n_labels:,} labels")
        parts.append("gray" if scan.channels == 1 else "colour")
        if scan.skipped:
            parts.append(f"{len(scan.skipped):,} skipped")
        self.summary.setText("  ·  ".join(parts))
        self.summary.setToolTip(str(root))
        self.model.set_records(scan.images)
        self.labels.fill(counts, len(scan.images))
        self.skipped_section.set_items(root, scan.skipped)
        self.image_info.setText("Select an image to see its size, mode and bit depth.")
        self.grid_title.setText(f"Images ({len(scan.images):,})")
        self.pages.setCurrentIndex(1)
        self.status_message.emit(f"Opened {root}: {self.summary.text()}")

    # -- reactions ---------------------------------------------------------------------------
    @Slot()
    def _on_label_selected(self) -> None:
        rows = self.labels.selectionModel().selectedRows()
        label = rows[0].data(Qt.ItemDataRole.UserRole) if rows else None
        self.model.set_label_filter(label)
        shown = self.model.rowCount()
        self.grid_title.setText(f"Images ({shown:,})" if label is None else
                                f"Images labelled {label or NO_LABEL} ({shown:,})")
        self.image_info.setText("Select an image to see its size, mode and bit depth.")

    @Slot(QItemSelection, QItemSelection)
    def _on_image_selected(self, *_: Any) -> None:
        record = self.selected_record()
        if record is None:
            return
        label = f"  ·  label {html.escape(record.label)}" if record.label else ""
        text = f"<b>{html.escape(record.relpath)}</b>{label}<br>{describe_record(record)}"
        self.image_info.setText(text)
        if min(record.info.width, record.info.height) >= NOISE_MIN_SIDE:
            relay = start_job(self.pool, noise_job(str(record.path)), "noise-estimate",
                              parent=self)
            relay.succeeded.connect(lambda noise, r=record, t=text: self._show_noise(r, t, noise))

    def _show_noise(self, record: ImageRecord, text: str, noise) -> None:
        if noise is None or self.selected_record() is not record:
            return  # too small, or another image is selected by now
        kind = "spread over neighbours" if noise.correlated else "independent"
        self.image_info.setText(f"{text}<br>noise ≈ {noise.sigma:.1f}/255, {kind}")
        self.image_info.setToolTip(noise.describe())

    @Slot(int)
    def _set_icon_size(self, size: int) -> None:
        self.grid.set_thumbnail_size(size)
