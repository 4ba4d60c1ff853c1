"""The argument parser of the ``aestudio`` command and all its subcommands."""

from __future__ import annotations

import argparse
from typing import NoReturn

from aestudio import __version__
from aestudio.cli.exits import EXIT_BAD_INPUT


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
    from aestudio.cli import app, denoise, explore, export, latent, models, train

    parser = OneLineParser(
        prog="aestudio",
        description="A studio for autoencoders. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"aestudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train, latent, explore, denoise, models, export, app):
        module.add_parsers(sub)
    return parser
