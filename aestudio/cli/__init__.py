"""The ``aestudio`` command line: the GUI with no arguments, headless subcommands otherwise.

One module per group of subcommands, one function per subcommand; the torch-using core is
imported inside the command functions so that ``aestudio --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from aestudio.cli.exits import EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

__all__ = ["EXIT_BAD_INPUT", "EXIT_BUG", "EXIT_INTERRUPTED", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``aestudio`` command and all its subcommands."""
    from aestudio.cli import parser  # argparse and every subcommand: not for the bare app

    return parser.build_parser()


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
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments:
        parser = build_parser()
        args = parser.parse_args(arguments)
        if args.command is None:
            args = parser.parse_args(["gui"])
        command = args.func
    else:
        # The app with nothing to parse: skip building every subcommand's parser (and
        # importing argparse's users), so that the window is on screen sooner.
        from aestudio.ui.app import run_app

        args, command = None, lambda _args: run_app()
    try:
        return command(args)
    except KeyboardInterrupt:
        print("aestudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``aestudio info photo | head``): nothing more to say.
        # Point stdout at nothing so that the interpreter's own flush at exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # The one error path of every command: an expected failure is one line; anything
        # else is a bug, shown with its traceback for the report.
        from aestudio.core.errors import describe_error, is_user_error

        if is_user_error(exc):
            print(f"aestudio: error: {describe_error(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        import traceback

        traceback.print_exc()
        print(f"aestudio: error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_BUG

if __name__ == "__main__":
    sys.exit(main())
