"""``python -m aestudio``: the same as the ``aestudio`` command."""

import sys

from aestudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
