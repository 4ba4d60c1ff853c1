"""The ``aestudio`` command line: the GUI with no arguments, headless subcommands otherwise.

One module per group of subcommands, one function per subcommand; the torch-using core is
imported inside the command functions so that ``aestudio --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aestudio import __version__
from aestudio.cli import app, denoise, latent, models, train

# Errors that mean "bad input": one line, exit status 2, no traceback.
EXIT_BAD_INPUT = 2


def _user_errors() -> tuple[type[BaseException], ...]:
    from aestudio.core.config import ConfigError
    from aestudio.core.data.imagefolder import DatasetError
    from aestudio.core.data.noise import NoiseSpecError
    from aestudio.core.io.imageio import ImageReadError
    from aestudio.core.models.modelfile import ModelFileError
    from aestudio.core.training.trainer import TrainingError

    return (ConfigError, DatasetError, ImageReadError, ModelFileError, NoiseSpecError,
            TrainingError, FileNotFoundError, NotADirectoryError, PermissionError, ValueError)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``aestudio`` command and all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="aestudio",
        description="A studio for autoencoders. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"aestudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train, latent, denoise, models, app):
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aestudio`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("aestudio: interrupted", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"aestudio: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
