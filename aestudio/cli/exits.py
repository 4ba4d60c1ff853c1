"""Exit statuses of the ``aestudio`` command."""

EXIT_BUG = 1  # a bug: shown with its traceback
EXIT_BAD_INPUT = 2  # a failure the person can fix: a bad option, a broken file, a full disk
EXIT_INTERRUPTED = 130  # Ctrl+C
