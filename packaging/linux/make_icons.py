"""Render the freedesktop icon theme files for the Linux desktop integration.

Run from the repository root after the app icon changed::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/linux/make_icons.py

Reads ``aestudio/resources/icons/aestudio.svg`` (the app's own icon) and writes
``packaging/linux/icons/hicolor/<N>x<N>/apps/io.github.aestudio.Aestudio.png`` for every
size in ``SIZES`` plus the SVG itself under ``hicolor/scalable/apps/``. The files are
committed, so installing needs neither Qt nor an SVG renderer.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "aestudio" / "resources" / "icons" / "aestudio.svg"
THEME = Path(__file__).resolve().parent / "icons" / "hicolor"
APP_ID = "io.github.aestudio.Aestudio"
# The sizes desktops look up in the hicolor theme (panels, launchers, app grids, HiDPI).
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def icon_file(size: int | None, theme: Path = THEME) -> Path:
    """Where the icon of ``size`` pixels (the SVG when None) lies in the theme folder."""
    if size is None:
        return theme / "scalable" / "apps" / f"{APP_ID}.svg"
    return theme / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def render_icons(source: Path = SOURCE, theme: Path = THEME) -> list[Path]:
    """Render ``source`` to one square PNG per size in ``SIZES`` and copy the SVG.

    Returns
    -------
    list of Path
        The files written.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {source}")
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = icon_file(size, theme)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    scalable = icon_file(None, theme)
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, scalable)
    written.append(scalable)
    del app
    return written


if __name__ == "__main__":
    for path in render_icons():
        print(path.relative_to(ROOT))
