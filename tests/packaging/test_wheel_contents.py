"""The wheel carries everything the app needs at run time.

One wheel is built (``pip wheel --no-deps --no-build-isolation``, no network) from a clean
copy of the sources and its listing is checked: every module, the bundled demo folders and
icons, the ``aestudio`` entry point, and a declared dependency for every third-party module
the app imports.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "aestudio"

# Import name -> distribution that provides it (as named in pyproject.toml).
DISTRIBUTIONS = {
    "torch": "torch",
    "PySide6": "pyside6-essentials",
    "shiboken6": "pyside6-essentials",  # installed with PySide6-Essentials
    "pyqtgraph": "pyqtgraph",
    "PIL": "pillow",
    "numpy": "numpy",
    "tifffile": "tifffile",
    "imagecodecs": "imagecodecs",
    "safetensors": "safetensors",
    "superqt": "superqt",
    "tqdm": "tqdm",
    "torchmetrics": "torchmetrics",
}
# Imported only when present; the app works (and says what is missing) without them.
OPTIONAL = {"sklearn", "umap", "onnx", "onnxscript"}


def _cannot_build() -> str | None:
    """Why this environment cannot build the wheel without isolation, or None."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return "the packaging module is not installed"
    for text in requires:
        requirement = Requirement(text)
        # setuptools 70.1 and newer build wheels alone; a "wheel" requirement is moot then.
        if requirement.name != "setuptools":
            continue
        try:
            installed = importlib.metadata.version("setuptools")
        except importlib.metadata.PackageNotFoundError:
            return "setuptools is not installed"
        if not requirement.specifier.contains(installed, prereleases=True):
            return f"setuptools {installed} does not satisfy {text}"
    return None


@dataclass
class Built:
    """The wheel and the copy of the sources it was built from."""

    archive: zipfile.ZipFile
    source: Path  # the copied ``aestudio`` package folder


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    reason = _cannot_build()
    if reason:
        pytest.skip(f"cannot build the wheel here without the network: {reason}")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    # A copy, because an in-tree build reuses build/lib (which keeps deleted modules).
    shutil.copytree(PACKAGE, source / "aestudio", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, source / name)
    # A developer's tree holds bytecode; it must not ride along as package data.
    cache = source / "aestudio" / "resources" / "__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-311.pyc").write_bytes(b"\0" * 16)

    out = tmp / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "--no-index", "--quiet", str(source), "-w", str(out)]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip("building the wheel took over 120 s")
    if run.returncode != 0:
        for reason in ("No module named pip", "No module named 'wheel'"):
            if reason in run.stderr:
                pytest.skip(f"cannot build a wheel here: {reason}")
        pytest.fail(f"building the wheel failed:\n{run.stderr[-3000:]}")
    wheels = list(out.glob("aestudio-*.whl"))
    assert len(wheels) == 1, wheels
    # The bytecode planted above is not part of the package.
    shutil.rmtree(cache)
    with zipfile.ZipFile(wheels[0]) as archive:
        yield Built(archive, source / "aestudio")


def _dist_info(archive: zipfile.ZipFile, name: str) -> str:
    pattern = rf"aestudio-[^/]+\.dist-info/{name}"
    matches = [n for n in archive.namelist() if re.fullmatch(pattern, n)]
    assert matches, f"no {name} in the wheel"
    return archive.read(matches[0]).decode()


def test_every_module_and_resource_is_in_the_wheel(wheel: Built) -> None:
    names = set(wheel.archive.namelist())
    # Compared with the copy the wheel was built from (the tree may change meanwhile).
    expected = {
        path.relative_to(wheel.source.parent).as_posix()
        for path in wheel.source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(expected - names)
    assert not missing, f"{len(missing)} files missing from the wheel, e.g. {missing[:5]}"
    bytecode = [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not bytecode, (f"bytecode shipped as package data: {bytecode}; exclude it in "
                          "[tool.setuptools.exclude-package-data]")


def test_demo_data_and_icons_are_in_the_wheel(wheel: Built) -> None:
    from aestudio.resources import DEMO_FOLDERS, ICON_SIZES

    names = wheel.archive.namelist()
    for demo in DEMO_FOLDERS:
        prefix = f"aestudio/resources/demo/{demo}/"
        images = [n for n in names if n.startswith(prefix) and n.endswith((".png", ".jpg"))]
        assert images, f"no {demo} demo images in the wheel"
    digits = [n for n in names if n.startswith("aestudio/resources/demo/digits/")]
    labels = {n.split("/")[4] for n in digits}
    assert labels == {str(d) for d in range(10)} and len(digits) >= 1000
    assert "aestudio/resources/icons/aestudio.svg" in names
    for size in ICON_SIZES:
        assert f"aestudio/resources/icons/aestudio-{size}.png" in names


def test_entry_point_runs_the_cli(wheel: Built) -> None:
    entry_points = _dist_info(wheel.archive, "entry_points.txt")
    assert re.search(r"^\[console_scripts\]\s*^aestudio = aestudio\.cli:main\s*$",
                     entry_points, re.MULTILINE), entry_points
    assert "aestudio/__main__.py" in wheel.archive.namelist()


def _third_party_imports(package: Path) -> dict[str, set[str]]:
    """Top-level modules imported anywhere in ``package`` (outside aestudio and the
    standard library), each with the files that import it."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top != "aestudio" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(path.relative_to(package.parent).as_posix())
    return found


def test_every_imported_package_is_a_declared_dependency(wheel: Built) -> None:
    metadata = _dist_info(wheel.archive, "METADATA")
    declared = {
        re.split(r"[\s<>=!~;\[(]", line.split(":", 1)[1].strip(), maxsplit=1)[0].lower()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    imported = _third_party_imports(wheel.source)
    for module, files in sorted(imported.items()):
        if module in OPTIONAL:
            continue
        assert module in DISTRIBUTIONS, (
            f"{module} (imported by {', '.join(sorted(files))}) is not known here: add it to "
            "pyproject.toml's dependencies and to DISTRIBUTIONS, or to OPTIONAL")
        assert DISTRIBUTIONS[module] in declared, (
            f"{module} is imported by {', '.join(sorted(files))} but "
            f"{DISTRIBUTIONS[module]} is not a dependency in pyproject.toml")
    # The other way round: a dependency nothing imports only costs installs. torchvision in
    # particular pins one exact torch release and swaps a CPU torch for a CUDA one.
    needed = {DISTRIBUTIONS[module] for module in imported if module in DISTRIBUTIONS}
    unused = sorted(declared - needed)
    assert not unused, f"declared in pyproject.toml but never imported: {', '.join(unused)}"
