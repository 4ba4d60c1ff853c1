"""``aestudio gui`` and ``aestudio smoke``: the app, and its offscreen smoke run."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from aestudio.cli.options import add_command


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the studio, with a folder and a model file if given. Returns the exit status."""
    from aestudio.ui.app import run_app

    return run_app(folder=getattr(args, "folder", None), model=getattr(args, "model_file", None))


def cmd_smoke(args: argparse.Namespace) -> int:
    """Run the real window offscreen for a few steps; save a PNG of each panel. Returns the exit status."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from aestudio.ui.smoke import run_smoke

    return run_smoke(Path(args.out), size=args.size)



def window_size(text: str) -> tuple[int, int]:
    """An argparse type: ``WxH`` in pixels, each from 640 to 7680."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 1366x768; got {text!r}") from None
    if not (640 <= width <= 7680 and 480 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text} is outside 640x480 to 7680x4320")
    return width, height


def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "gui", cmd_gui, "open the app (the default)")
    p.add_argument("folder", nargs="?", help="image folder to open")
    p.add_argument("--model", dest="model_file", help="model file to open")

    p = add_command(sub, "smoke", cmd_smoke, "open the real window offscreen, train a few steps, "
            "save a PNG of each panel")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    p.add_argument("--size", type=window_size, default=(1440, 900), metavar="WxH",
                   help="window size in pixels (default: 1440x900)")
