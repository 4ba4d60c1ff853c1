"""Progress on the terminal for long commands."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """A one-line progress bar on a terminal; occasional plain lines otherwise."""

    def __init__(self, stream=None, interval_s: float = 5.0, enabled: bool = True) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval_s = interval_s
        self._last = 0.0

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if not force and now - self._last < 0.1:
                return
            width = 28
            filled = int(width * min(max(fraction, 0.0), 1.0))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                              f"{100 * fraction:5.1f}% {text}\x1b[K")
        else:
            if not force and now - self._last < self.interval_s:
                return
            self.stream.write(f"{100 * fraction:5.1f}% {text}\n")
        self.stream.flush()
        self._last = now

    def close(self) -> None:
        if self.tty and self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
