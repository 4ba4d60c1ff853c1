"""Linux desktop integration: the .desktop entry, the AppStream metainfo, the icon theme
files and the per-user installer.

``desktop-file-validate`` (desktop-file-utils) and ``appstreamcli`` (appstream) check the
files when they are installed; the structural checks below run everywhere.
"""

from __future__ import annotations

import configparser
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import aestudio

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.aestudio.Aestudio"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
THEME = LINUX / "icons" / "hicolor"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _validate_desktop(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (desktop-file-utils)")
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=30)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "error:" not in output and "warning:" not in output, output


def test_desktop_entry_fields() -> None:
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[:2] == ["aestudio", "gui"]
    assert entry["TryExec"] == "aestudio"
    assert entry["Terminal"] == "false"


def test_desktop_entry_validates() -> None:
    _validate_desktop(DESKTOP)


def test_metainfo_matches_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == APP_ID
    versions = [release.get("version") for release in root.iter("release")]
    assert versions and versions[0] == aestudio.__version__, (
        f"the newest <release> in {METAINFO.name} should be {aestudio.__version__}")


def test_metainfo_validates() -> None:
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (appstream)")
    run = subprocess.run([tool, "validate", "--no-net", str(METAINFO)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_icon_theme_files_have_their_sizes() -> None:
    for size in SIZES:
        path = THEME / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert path.is_file(), f"missing {path.relative_to(ROOT)}"
        assert _png_size(path) == (size, size), path
    scalable = THEME / "scalable" / "apps" / f"{APP_ID}.svg"
    app_svg = ROOT / "aestudio" / "resources" / "icons" / "aestudio.svg"
    assert scalable.read_bytes() == app_svg.read_bytes(), (
        "the theme's SVG differs from the app icon; run packaging/linux/make_icons.py")


@pytest.mark.skipif(shutil.which("bash") is None, reason="install.sh needs bash")
def test_install_script_installs_and_removes(tmp_path: Path) -> None:
    program = tmp_path / "my venv" / "bin" / "aestudio"  # a space, as in real home folders
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    data = tmp_path / "share"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    script = str(LINUX / "install.sh")

    run = subprocess.run(["bash", script, "--prefix", str(data), "--exec", str(program)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    installed = data / "applications" / DESKTOP.name
    entry = _desktop_entry(installed)
    assert entry["Exec"] == f'"{program}" gui'
    assert entry["TryExec"] == str(program)
    assert (data / "metainfo" / METAINFO.name).is_file()
    for size in SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    if shutil.which("desktop-file-validate"):
        _validate_desktop(installed)

    run = subprocess.run(["bash", script, "--prefix", str(data), "--uninstall"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    assert not installed.exists()
    assert not list((data / "icons").rglob(f"{APP_ID}.*"))


def test_install_script_needs_an_aestudio(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("install.sh needs bash")
    run = subprocess.run(["bash", str(LINUX / "install.sh"), "--prefix", str(tmp_path)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 1 and "--exec" in run.stderr
    assert not (tmp_path / "applications").exists()
