#!/usr/bin/env bash
# Build the one-folder desktop app into dist/aestudio/ and check it with a smoke run.
#
#   packaging/build_app.sh            # or: make package
#
# Steps (docs/packaging.md explains the choices):
#   1. a dedicated build venv, build/package-venv, with the CPU build of torch (a CUDA torch
#      would make the bundle several GB), aestudio's other run-time dependencies from
#      pyproject.toml, and PyInstaller; aestudio itself is installed with --no-deps so that
#      nothing pulls a CUDA torch back in. The venv is reused until its inputs change.
#   2. PyInstaller with packaging/aestudio.spec -> dist/aestudio/
#   3. the check: dist/aestudio/aestudio smoke --out build/package-smoke, run outside the
#      checkout so that only the bundle's own files can be used.
#
# Settings (environment variables):
#   PYTHON                   interpreter for the build venv (3.11 or newer; default python3)
#   PACKAGE_VENV             the build venv (default build/package-venv)
#   TORCH_REQUIREMENT        default torch==2.13.0
#   TORCH_PIP_ARGS           extra pip arguments for torch, e.g. an index of CPU wheels:
#                            "--index-url https://download.pytorch.org/whl/cpu"
#   PYINSTALLER_REQUIREMENT  default "pyinstaller>=6.11"
#   ALLOW_CUDA_TORCH=1       bundle a CUDA build of torch on purpose (several GB)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python3}"
VENV="${PACKAGE_VENV:-build/package-venv}"
TORCH_REQUIREMENT="${TORCH_REQUIREMENT:-torch==2.13.0}"
TORCH_PIP_ARGS="${TORCH_PIP_ARGS:-}"
PYINSTALLER_REQUIREMENT="${PYINSTALLER_REQUIREMENT:-pyinstaller>=6.11}"
SMOKE_OUT="$ROOT/build/package-smoke"
VPY="$VENV/bin/python"

say() { printf '\n== %s\n' "$*" >&2; }
started=$(date +%s)
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "build_app.sh: $PYTHON is not Python 3.11 or newer; set PYTHON" >&2
    exit 1
fi

# -- 1. the build venv ------------------------------------------------------------------
inputs="$(cat pyproject.toml; echo "$TORCH_REQUIREMENT|$TORCH_PIP_ARGS|$PYINSTALLER_REQUIREMENT")"
stamp="$(printf '%s' "$inputs" | cksum | cut -d' ' -f1)"
if [[ ! -x "$VPY" || "$(cat "$VENV/.package-stamp" 2>/dev/null)" != "$stamp" ]]; then
    say "creating the build venv $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VPY" -m pip install --quiet --upgrade pip
    # shellcheck disable=SC2086  # TORCH_PIP_ARGS holds several words on purpose
    "$VPY" -m pip install --quiet $TORCH_PIP_ARGS "$TORCH_REQUIREMENT"
    # aestudio's run-time dependencies except torch (installed above) and torchvision
    # (the app never imports it, and a registry torchvision would pull a CUDA torch).
    "$VPY" - > "$VENV/app-requirements.txt" <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as handle:
    dependencies = tomllib.load(handle)["project"]["dependencies"]
for requirement in dependencies:
    name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower()
    if name not in ("torch", "torchvision"):
        print(requirement)
PY
    "$VPY" -m pip install --quiet -r "$VENV/app-requirements.txt" "$PYINSTALLER_REQUIREMENT"
    echo "$stamp" > "$VENV/.package-stamp"
fi

if [[ "${ALLOW_CUDA_TORCH:-0}" != 1 ]] && ! "$VPY" -c \
        "import sys, torch; sys.exit(torch.version.cuda is not None)"; then
    echo "build_app.sh: $VENV has a CUDA build of torch; the bundle would be several GB." \
         "Install a CPU build (TORCH_PIP_ARGS, docs/packaging.md) or set ALLOW_CUDA_TORCH=1." >&2
    exit 1
fi

say "installing aestudio from $ROOT into $VENV (no dependencies)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# From a clean copy of the sources: an in-tree build reuses build/lib, which keeps modules
# that were deleted since, and a __pycache__ would ride along as package data.
mkdir "$scratch/src"
cp -R pyproject.toml README.md aestudio "$scratch/src/"
if [[ -f LICENSE ]]; then cp LICENSE "$scratch/src/"; fi
find "$scratch/src" -name __pycache__ -prune -exec rm -rf {} +
"$VPY" -m pip install --quiet --no-deps --force-reinstall "$scratch/src"
"$VPY" -c "import torch, PySide6, aestudio; print(f'aestudio {aestudio.__version__}, torch' \
    f' {torch.__version__}, PySide6 {PySide6.__version__}')"

# -- 2. PyInstaller -----------------------------------------------------------------------
say "PyInstaller: packaging/aestudio.spec -> dist/aestudio"
frozen_at=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist \
    --workpath build/pyinstaller packaging/aestudio.spec
frozen_s=$(( $(date +%s) - frozen_at ))

# -- 3. the check -------------------------------------------------------------------------
say "smoke run of the bundle -> $SMOKE_OUT"
rm -rf "$SMOKE_OUT"
# From an empty folder, with settings and caches kept out of the home folder.
(cd "$scratch" && QT_QPA_PLATFORM=offscreen AESTUDIO_SETTINGS_DIR="$scratch/settings" \
    AESTUDIO_CACHE_DIR="$scratch/cache" "$ROOT/dist/aestudio/aestudio" --version \
    && QT_QPA_PLATFORM=offscreen AESTUDIO_SETTINGS_DIR="$scratch/settings" \
    AESTUDIO_CACHE_DIR="$scratch/cache" "$ROOT/dist/aestudio/aestudio" smoke --out "$SMOKE_OUT")

size="$(du -sh dist/aestudio | cut -f1)"
say "dist/aestudio: $size; PyInstaller ${frozen_s} s; all steps $(( $(date +%s) - started )) s"
