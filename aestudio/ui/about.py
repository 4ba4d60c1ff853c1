"""The About dialog: version, what the app is built on, and the credits of bundled data."""

from __future__ import annotations

import platform
import sys

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from aestudio import __version__
from aestudio.ui.common.icons import app_icon

TAGLINE = "A desktop studio for autoencoders: train, denoise and explore latent spaces."

# (what, who, licence) of the data bundled inside the package.
DATA_CREDITS = (
    ("Handwritten digits (demo/digits: 3,000 of the 60,000 MNIST training digits)",
     "Yann LeCun, Corinna Cortes and Christopher J. C. Burges, the MNIST database",
     "CC BY-SA 3.0"),
    ("astronaut.png", "NASA (Eileen Collins), from the scikit-image sample data",
     "public domain"),
    ("rocket.jpg", "SpaceX, from the scikit-image sample data", "public domain"),
    ("camera.png, chelsea.png, coffee.png",
     "their photographers, from the scikit-image sample data", "CC0"),
    ("brick.png, grass.png, gravel.png", "CC0 Textures, from the scikit-image sample data",
     "CC0"),
)

SOFTWARE_CREDITS = (
    ("Qt and PySide6", "The Qt Company", "LGPL 3.0"),
    ("PyTorch", "The PyTorch contributors", "BSD 3-Clause"),
    ("pyqtgraph", "The pyqtgraph developers", "MIT"),
    ("superqt", "The superqt community (pyapp-kit)", "BSD 3-Clause"),
    ("NumPy", "The NumPy developers", "BSD 3-Clause"),
    ("Pillow", "Jeffrey A. Clark and contributors", "MIT-CMU"),
    ("tifffile and imagecodecs", "Christoph Gohlke", "BSD 3-Clause"),
    ("TorchMetrics", "Lightning AI and contributors", "Apache 2.0"),
    ("tqdm", "The tqdm developers", "MPL 2.0 and MIT"),
    ("safetensors", "Hugging Face", "Apache 2.0"),
)


def _table(rows: tuple[tuple[str, str, str], ...]) -> str:
    cells = "".join(
        f"<tr><td style='padding:3px 12px 3px 0'><b>{what}</b><br>{who}</td>"
        f"<td width='110' style='padding:3px 0'>{licence}</td></tr>"
        for what, who, licence in rows
    )
    return f"<table cellspacing='0' width='100%'>{cells}</table>"


def loaded_version(module_name: str) -> str | None:
    """The version of a module already imported (never importing it), or None.

    A module still being imported by a background thread counts as not imported.
    """
    module = sys.modules.get(module_name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    version = getattr(module, "__version__", None)
    return str(version) if version is not None else None


def credits_html() -> str:
    """The credits and licences as HTML (also used by tests)."""
    torch = loaded_version("torch")
    torch_version = f"PyTorch {torch}, " if torch else ""
    return (
        "<h3 style='margin-bottom:4px'>Bundled demo data</h3>"
        + _table(DATA_CREDITS)
        + "<p>The photos are downscaled to at most 512 pixels. "
          "MNIST digits are shared under the terms of CC BY-SA 3.0 "
          "(https://creativecommons.org/licenses/by-sa/3.0/).</p>"
        + "<h3 style='margin-bottom:4px'>Built with</h3>"
        + _table(SOFTWARE_CREDITS)
        + f"<p style='color:gray'>Running on Python {platform.python_version()}, "
          f"{torch_version}PySide6 {PYSIDE_VERSION}, Qt {qVersion()}, "
          f"{platform.system()} {platform.machine()}.</p>"
    )


class AboutDialog(QDialog):
    """Version, licence, credits of the bundled data and of the libraries."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AboutDialog")
        self.setWindowTitle("About aestudio")
        self.setMinimumSize(520, 520)

        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel(f"<span style='font-size:20pt; font-weight:600'>aestudio</span>"
                       f"&nbsp;&nbsp;<span style='font-size:11pt'>version {__version__}</span>")
        tagline = QLabel(TAGLINE)
        tagline.setWordWrap(True)
        licence = QLabel("Free software under the MIT licence.")
        licence.setEnabled(False)
        heading_text = QVBoxLayout()
        heading_text.setSpacing(4)
        heading_text.addWidget(title)
        heading_text.addWidget(tagline)
        heading_text.addWidget(licence)
        heading = QHBoxLayout()
        heading.setSpacing(16)
        heading.addWidget(icon)
        heading.addLayout(heading_text, 1)

        self.credits = QTextBrowser()
        self.credits.setObjectName("credits")
        self.credits.setOpenExternalLinks(True)
        self.credits.setHtml(credits_html())

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 14)
        layout.setSpacing(14)
        layout.addLayout(heading)
        layout.addWidget(self.credits, 1)
        layout.addWidget(buttons)
