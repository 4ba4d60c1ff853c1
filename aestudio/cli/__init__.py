"""The ``aestudio`` command line: the GUI with no arguments, headless subcommands otherwise.

One module per group of subcommands, one function per subcommand; the torch-using core is
imported inside the command functions so that ``aestudio --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from aestudio import __version__
from aestudio.cli import app, denoise, explore, latent, models, train

# Exit statuses: a failure the person can fix, a bug, and Ctrl+C.
EXIT_BAD_INPUT = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose refusal is one line that says where the help is."""

    def _get_values(self, action: argparse.Action, arg_strings: list[str]):  # type: ignore[override]
        # ``--lr=--`` would reach the command as an empty list: take "--" as the value given.
        if action.nargs is None and arg_strings == ["--"] and action.option_strings:
            return self._get_value(action, "--")
        return super()._get_values(action, arg_strings)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``aestudio`` command and all its subcommands."""
    parser = OneLineParser(
        prog="aestudio",
        description="A studio for autoencoders. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"aestudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train, latent, explore, denoise, models, app):
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aestudio`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a failure the person can fix (a bad option,
        a broken file, a full disk; one line on stderr), 3 when a batch did some files and
        skipped others (each named), 1 for a bug (with its traceback), 130 after Ctrl+C.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("aestudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        # The one error path of every command: an expected failure is one line; anything
        # else is a bug, shown with its traceback for the report.
        from aestudio.core.errors import describe_error, is_user_error

        if is_user_error(exc):
            print(f"aestudio: error: {describe_error(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        traceback.print_exc()
        print(f"aestudio: error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_BUG

if __name__ == "__main__":
    sys.exit(main())
