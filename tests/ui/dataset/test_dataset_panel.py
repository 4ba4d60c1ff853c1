"""The dataset panel on real folders: grid, label counts, skipped files, cancel, thumbnails."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from aestudio.core.data.records import ImageRecord
from aestudio.core.io.formats import ImageInfo
from aestudio.core.io.write import write_image as _write_image
from aestudio.ui.dataset.panel import DatasetPanel
from aestudio.ui.dataset.thumbnails import THUMBNAIL_PIXELS, RecordRole, decode_thumbnail


def write_image(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_image(path, array)


def make_folder(root: Path) -> Path:
    """3 gray 8-bit images labelled "a", 2 colour 16-bit labelled "b", and 3 bad files."""
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(root / "a" / f"{i}.png", rng.integers(0, 255, (12, 10, 1), dtype=np.uint8))
    for i in range(2):
        write_image(root / "b" / f"{i}.png",
                    rng.integers(0, 65535, (9, 14, 3), dtype=np.uint16))
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "b" / "empty.jpg").write_bytes(b"")
    (root / "readme.txt").write_text("not an image, ignored without a reason")
    return root


@pytest.fixture
def panel(qtbot, pool):
    widget = DatasetPanel(pool)
    qtbot.addWidget(widget)
    widget.resize(420, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def open_and_wait(qtbot, panel: DatasetPanel, folder: Path) -> None:
    with qtbot.waitSignal(panel.folder_loaded, timeout=10_000) as blocker:
        panel.open_folder(folder)
    assert blocker.args == [str(folder)]


def label_rows(panel: DatasetPanel) -> list[tuple[str, str]]:
    return [(panel.labels.item(r, 0).text(), panel.labels.item(r, 1).text())
            for r in range(panel.labels.rowCount())]


def test_good_and_bad_files_fill_grid_counts_and_skipped(qtbot, panel, tmp_path):
    folder = make_folder(tmp_path / "data")
    open_and_wait(qtbot, panel, folder)

    assert panel.folder() == str(folder)
    assert panel.model.rowCount() == 5
    assert label_rows(panel) == [("All images", "5"), ("a", "3"), ("b", "2")]
    assert "5 images" in panel.summary.text() and "2 skipped" in panel.summary.text()

    skipped = {Path(s.path).name: s.reason for s in panel.skipped_model.items()}
    assert set(skipped) == {"broken.png", "empty.jpg"}
    assert all(reason.strip() for reason in skipped.values())
    assert panel.skipped_badge.text() == "2"
    model = panel.skipped_model
    assert model.index(0, 0).data() in ("a/broken.png", "b/empty.jpg")
    assert model.index(0, 1).data() == skipped[Path(model.index(0, 0).data()).name]
    folded = panel.skipped_section.section.content()
    assert not panel.skipped_section.is_expanded() and folded.maximumHeight() == 0
    panel.skipped_toggle.click()
    assert panel.skipped_section.is_expanded()
    qtbot.waitUntil(lambda: folded.height() >= panel.skipped.minimumHeight(), timeout=3000)
    panel.skipped_toggle.click()
    qtbot.waitUntil(lambda: folded.height() == 0, timeout=3000)

    # Thumbnails of the visible rows arrive from the background loader.
    qtbot.waitUntil(lambda: panel.model.cached() == 5, timeout=5000)

    # Size, mode and bit depth of the selected image.
    index = panel.model.index(4, 0)
    assert index.data(RecordRole).relpath == "b/1.png"
    panel.grid.setCurrentIndex(index)
    info = panel.image_info.text()
    assert "14 × 9 px" in info and "16-bit" in info and "colour" in info and "PNG" in info

    # The label filter limits the grid.
    panel.set_label_filter("b")
    assert panel.label_filter() == "b"
    assert panel.model.rowCount() == 2
    assert "labelled b" in panel.grid_title.text()
    panel.set_label_filter(None)
    assert panel.model.rowCount() == 5


def test_cancel_keeps_the_previous_folder(qtbot, panel, tmp_path, monkeypatch, modal_dialogs):
    first = make_folder(tmp_path / "first")
    open_and_wait(qtbot, panel, first)

    slow = tmp_path / "slow"
    for i in range(80):
        write_image(slow / f"{i}.png", np.zeros((4, 4, 1), np.uint8))
    import aestudio.core.data.scan as scan_module

    real_header = scan_module.read_header

    def slow_header(*args, **kwargs):
        time.sleep(0.05)
        return real_header(*args, **kwargs)

    monkeypatch.setattr(scan_module, "read_header", slow_header)
    messages: list[str] = []
    panel.status_message.connect(messages.append)
    panel.open_folder(slow)
    assert panel.is_scanning() and panel.progress_row.isVisible()
    qtbot.waitUntil(lambda: panel.progress.maximum() == 80, timeout=5000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.is_scanning(), timeout=5000)

    assert panel.progress_row.isHidden()
    assert "Scan cancelled" in messages
    assert modal_dialogs.boxes == []
    assert panel.folder() == str(first)
    assert panel.model.rowCount() == 5


def test_a_folder_without_images_explains_why(qtbot, panel, tmp_path, modal_dialogs):
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "bad.png").write_bytes(b"garbage")
    panel.open_folder(empty)
    qtbot.waitUntil(lambda: not panel.is_scanning(), timeout=5000)
    qtbot.waitUntil(lambda: bool(modal_dialogs.boxes), timeout=2000)
    title, text, details = modal_dialogs.boxes[0]
    assert title == "Cannot open the folder"
    assert "no usable images" in text and "DatasetError" not in text
    assert details == ""
    assert panel.folder() is None

    panel.open_folder(tmp_path / "does-not-exist")
    qtbot.waitUntil(lambda: len(modal_dialogs.boxes) == 2, timeout=5000)
    assert "not a folder" in modal_dialogs.texts[1]


def test_a_crash_in_the_job_is_a_dialog_with_details(qtbot, panel, tmp_path, monkeypatch,
                                                     modal_dialogs):
    import aestudio.ui.dataset.panel as dataset_panel

    real_job = dataset_panel.scan_job

    def crashing_job(folder):
        def job(worker):
            raise RuntimeError(f"disk on fire while reading {folder}\nsecond line")
        return job

    monkeypatch.setattr(dataset_panel, "scan_job", crashing_job)
    panel.open_folder(tmp_path)
    qtbot.waitUntil(lambda: bool(modal_dialogs.boxes), timeout=5000)
    title, text, details = modal_dialogs.boxes[0]
    assert text.startswith("RuntimeError: disk on fire") and "second line" not in text
    assert "Traceback" in details and "crashing_job" not in text
    qtbot.waitUntil(lambda: not panel.is_scanning(), timeout=5000)
    # The panel keeps working.
    monkeypatch.setattr(dataset_panel, "scan_job", real_job)
    open_and_wait(qtbot, panel, make_folder(tmp_path / "fine"))


def test_only_visible_rows_are_decoded(qtbot, panel, tmp_path):
    """With 20,000 rows, only the few the view paints are asked for."""
    image = tmp_path / "one.png"
    write_image(image, np.full((8, 8, 1), 200, np.uint8))
    info = ImageInfo(8, 8, 1, 8, "L", "PNG")
    records = [ImageRecord(tmp_path / f"missing-{i}.png", f"missing-{i}.png", "", info)
               for i in range(20_000)]
    records[0] = ImageRecord(image, "one.png", "", info)
    panel.pages.setCurrentIndex(1)
    panel.model.set_records(records)
    qtbot.waitUntil(lambda: panel.model.cached() > 0, timeout=5000)
    visible = panel.model.requested()
    assert 0 < visible < 400
    panel.grid.scrollToBottom()
    qtbot.waitUntil(lambda: panel.model.requested() > visible, timeout=5000)
    assert panel.model.requested() < 800
    # Rows that cannot be decoded get the broken tile, and the loader keeps going.
    qtbot.waitUntil(lambda: panel.loader.pending() == 0, timeout=5000)
    first = panel.model.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    assert not first.isNull()


def test_decode_thumbnail_sizes(tmp_path):
    small = tmp_path / "small.png"
    write_image(small, np.zeros((28, 20, 1), np.uint8))
    image = decode_thumbnail(small)
    assert (image.width(), image.height()) == (20 * 4, 28 * 4)  # whole factor, crisp

    big = tmp_path / "big.png"
    write_image(big, np.zeros((300, 600, 3), np.uint16))
    image = decode_thumbnail(big)
    assert (image.width(), image.height()) == (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS // 2)

