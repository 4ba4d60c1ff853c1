"""Building blocks of the parser shared by the subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_command(sub, name: str, func: Callable[[argparse.Namespace], int], help: str,
                description: str | None = None) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` running ``func`` and return its parser."""
    p = sub.add_parser(name, help=help, description=description or help)
    p.set_defaults(func=func)
    return p


def device_option(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
    """Add ``--device``."""
    p.add_argument("--device", default=default, choices=["auto", "cpu", "cuda", "mps"],
                   help="compute device (auto: CUDA, then Apple MPS, then CPU)")
