"""Render the app icon SVG to the PNG sizes desktops and installers ask for.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_icons.py

Writes ``aestudio/resources/icons/aestudio-<size>.png`` for each size in ``SIZES``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "aestudio" / "resources" / "icons"
SOURCE = ICONS / "aestudio.svg"
SIZES = (16, 32, 48, 64, 128, 256)


def render_icons(source: Path = SOURCE, out_dir: Path = ICONS) -> list[Path]:
    """Render ``source`` to one square PNG per size in ``SIZES``; return the paths."""
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
        path = out_dir / f"aestudio-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    del app
    return written


if __name__ == "__main__":
    for path in render_icons():
        print(path.relative_to(ROOT))
