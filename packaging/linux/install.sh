#!/usr/bin/env bash
# Put aestudio in the desktop's application menu: the .desktop file, the AppStream metainfo
# and the icons, installed for the current user (no root needed).
#
#   packaging/linux/install.sh                      # the `aestudio` found on PATH
#   packaging/linux/install.sh --exec ~/venvs/ae/bin/aestudio
#   packaging/linux/install.sh --exec "$PWD/dist/aestudio/aestudio"   # the one-folder app
#   packaging/linux/install.sh --uninstall
#
# Options: --exec PATH (the aestudio executable the menu entry starts), --prefix DIR (the data
# folder, default ${XDG_DATA_HOME:-~/.local/share}), --uninstall. The launcher gets the
# executable's absolute path, so a virtual environment need not be on the desktop's PATH.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APP_ID="io.github.aestudio.Aestudio"
PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}"
EXEC=""
UNINSTALL=0

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --exec) EXEC="${2:?--exec needs a path}"; shift 2 ;;
        --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

APPS="$PREFIX/applications"
METAINFO="$PREFIX/metainfo"
ICONS="$PREFIX/icons/hicolor"

# Every icon file below icons/hicolor, relative to it (e.g. 48x48/apps/APP_ID.png).
icon_files() { (cd "$HERE/icons/hicolor" && find . -type f -name "$APP_ID.*" | sed 's|^\./||'); }

refresh_caches() {
    # Menus and icon themes pick new files up by themselves on most desktops; the caches
    # only make it immediate. Missing tools are fine.
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$APPS" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [[ -f "$ICONS/index.theme" ]]; then
        gtk-update-icon-cache -q -t "$ICONS" 2>/dev/null || true
    fi
}

if [[ $UNINSTALL -eq 1 ]]; then
    rm -f "$APPS/$APP_ID.desktop" "$METAINFO/$APP_ID.metainfo.xml"
    while IFS= read -r icon; do rm -f "$ICONS/$icon"; done < <(icon_files)
    refresh_caches
    echo "removed aestudio's menu entry and icons from $PREFIX"
    exit 0
fi

if [[ -z "$EXEC" ]]; then
    EXEC="$(command -v aestudio || true)"
    if [[ -z "$EXEC" ]]; then
        echo "install.sh: no 'aestudio' on PATH; install it first (pip install aestudio)" \
             "or name it with --exec PATH" >&2
        exit 1
    fi
fi
if [[ ! -x "$EXEC" || -d "$EXEC" ]]; then
    echo "install.sh: $EXEC is not an executable file" >&2
    exit 1
fi
EXEC="$(cd "$(dirname "$EXEC")" && pwd)/$(basename "$EXEC")"
case "$EXEC" in
    *[\"\`\$\\]*) echo "install.sh: cannot write a launcher for the path $EXEC" >&2; exit 1 ;;
esac

mkdir -p "$APPS" "$METAINFO"
# Exec takes a quoted path (it may hold spaces); TryExec takes the bare path.
sed -e "s|^Exec=aestudio |Exec=\"$EXEC\" |" -e "s|^TryExec=aestudio\$|TryExec=$EXEC|" \
    "$HERE/$APP_ID.desktop" > "$APPS/$APP_ID.desktop.tmp"
mv "$APPS/$APP_ID.desktop.tmp" "$APPS/$APP_ID.desktop"
install -m 644 "$HERE/$APP_ID.metainfo.xml" "$METAINFO/$APP_ID.metainfo.xml"
while IFS= read -r icon; do
    install -D -m 644 "$HERE/icons/hicolor/$icon" "$ICONS/$icon"
done < <(icon_files)
refresh_caches
echo "installed aestudio's menu entry ($APPS/$APP_ID.desktop) starting $EXEC"
