"""Progress on the terminal for long commands, drawn by tqdm."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

# Units of the bar: fractions are shown to a tenth of a percent.
_UNITS = 1000


class ProgressBar:
    """A one-line bar over a fraction in ``[0, 1]`` on stderr, silent when it is no terminal.

    Parameters
    ----------
    stream : TextIO, optional
        Where to draw; stderr by default.
    enabled : bool
        False draws nothing (ranks other than 0 under ``torchrun``).
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._bar: tqdm | None = None

    def update(self, fraction: float, text: str = "") -> None:
        """Show ``fraction`` done with ``text`` after the bar (tqdm throttles the redraws)."""
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm  # here, so that --help never pays for it

            # disable=None: tqdm draws only on a terminal, so logs and pipes stay clean.
            self._bar = tqdm(total=_UNITS, file=self.stream, disable=None, leave=True,
                             dynamic_ncols=True,
                             bar_format="{percentage:5.1f}% |{bar:28}| {desc}")
        self._bar.set_description_str(text, refresh=False)
        done = round(_UNITS * min(max(fraction, 0.0), 1.0))
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """End the current bar; the next :meth:`update` starts a new one."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def format_eta(seconds: float | None) -> str:
    """``h:mm:ss``, or ``--:--`` when the time left is unknown."""
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
