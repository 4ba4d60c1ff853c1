"""The application's look: the Fusion style with a calm palette, light or dark."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEME_ENV = "AESTUDIO_THEME"  # "light" or "dark"; unset follows the desktop
ACCENT = "#3b5bdb"

_LIGHT = {
    "window": "#f1f3f5", "text": "#1f2328", "base": "#ffffff", "alternate": "#f6f7f9",
    "button": "#e9ecef", "mid": "#ced4da", "dark": "#adb5bd", "shadow": "#868e96",
    "tooltip": "#ffffff", "disabled": "#8c939a", "link": "#364fc7", "highlight": ACCENT,
    "highlighted_text": "#ffffff", "placeholder": "#868e96",
}
_DARK = {
    "window": "#25272b", "text": "#e6e8eb", "base": "#1b1c1f", "alternate": "#222428",
    "button": "#2f3237", "mid": "#44484f", "dark": "#16171a", "shadow": "#0d0d0f",
    "tooltip": "#2f3237", "disabled": "#7b8089", "link": "#91a7ff", "highlight": "#4c6ef5",
    "highlighted_text": "#ffffff", "placeholder": "#7b8089",
}


def wants_dark() -> bool:
    """True when ``AESTUDIO_THEME=dark``, or unset and the desktop uses a dark scheme."""
    theme = os.environ.get(THEME_ENV, "").lower()
    if theme in ("light", "dark"):
        return theme == "dark"
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def make_palette(dark: bool = False) -> QPalette:
    """The app palette for the light or the dark theme."""
    c = {k: QColor(v) for k, v in (_DARK if dark else _LIGHT).items()}
    role = QPalette.ColorRole
    palette = QPalette()
    palette.setColor(role.Window, c["window"])
    palette.setColor(role.WindowText, c["text"])
    palette.setColor(role.Base, c["base"])
    palette.setColor(role.AlternateBase, c["alternate"])
    palette.setColor(role.ToolTipBase, c["tooltip"])
    palette.setColor(role.ToolTipText, c["text"])
    palette.setColor(role.PlaceholderText, c["placeholder"])
    palette.setColor(role.Text, c["text"])
    palette.setColor(role.Button, c["button"])
    palette.setColor(role.ButtonText, c["text"])
    palette.setColor(role.BrightText, QColor("#e03131"))
    palette.setColor(role.Light, c["base"])
    palette.setColor(role.Midlight, c["alternate"])
    palette.setColor(role.Mid, c["mid"])
    palette.setColor(role.Dark, c["dark"])
    palette.setColor(role.Shadow, c["shadow"])
    palette.setColor(role.Highlight, c["highlight"])
    palette.setColor(role.HighlightedText, c["highlighted_text"])
    palette.setColor(role.Link, c["link"])
    palette.setColor(role.LinkVisited, c["link"])
    group = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group, r, c["disabled"])
    palette.setColor(group, role.Highlight, c["mid"])
    return palette


def apply_style(app: QApplication) -> None:
    """Use Fusion with the aestudio palette (dark when the desktop or the env asks)."""
    app.setStyle("Fusion")
    app.setPalette(make_palette(wants_dark()))
