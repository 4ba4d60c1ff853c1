"""Files shipped inside the package: the app icon and the bundled demo image folders.

Found next to this module: the package is installed as plain files (setuptools
package-data), so the same paths work from a source checkout, a wheel or an editable
install. Their sources and credits are described in ``resources/README.md``
at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

DEMO_FOLDERS = ("digits", "photos")
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def _root() -> Path:
    # Plain files, so Qt and the scanner open them directly (and importlib.resources,
    # slow to import, is not needed before the window's first paint).
    return Path(__file__).resolve().parent


def demo_folder(name: str = "digits") -> Path:
    """The folder of a bundled demo data set.

    Parameters
    ----------
    name : str
        ``"digits"`` (3,000 MNIST digits, one subfolder per label) or ``"photos"``
        (eight sample photos and textures).

    Raises
    ------
    ValueError
        When ``name`` is not a bundled demo.
    """
    if name not in DEMO_FOLDERS:
        raise ValueError(f"unknown demo {name!r}; choose one of {', '.join(DEMO_FOLDERS)}")
    return _root() / "demo" / name


def icon_path(size: int | None = None, name: str = "aestudio") -> Path:
    """Path of a bundled icon: the SVG when ``size`` is None, else the PNG of that size.

    Raises
    ------
    ValueError
        When no PNG of ``size`` is bundled.
    """
    if size is None:
        return _root() / "icons" / f"{name}.svg"
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px icon; sizes: {', '.join(map(str, ICON_SIZES))}")
    return _root() / "icons" / f"{name}-{size}.png"
