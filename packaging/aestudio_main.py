"""Entry script of the frozen app: the same as the ``aestudio`` command.

PyInstaller needs a script rather than a console-script entry point; this one only hands
over to :func:`aestudio.cli.main`, so the one-folder app accepts every subcommand
(``aestudio smoke``, ``aestudio train`` ...) and opens the studio without arguments.
"""

import multiprocessing
import sys

from aestudio.cli import main

if __name__ == "__main__":
    # A frozen program re-runs itself for spawned child processes (Windows, macOS).
    multiprocessing.freeze_support()
    sys.exit(main())
