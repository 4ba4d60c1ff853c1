"""The latent explorer's exports: code tables, the error ranking and interpolation frames.

The file dialogs live here; the writing is the engine's (:mod:`aestudio.core.latent.export`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from aestudio.core.errors import UserError
from aestudio.core.latent.codes import FolderCodes
from aestudio.core.latent.export import (
    save_frames,
    save_gif,
    save_strip,
    write_anomalies,
    write_table,
)
from aestudio.core.latent.map import LatentMap
from aestudio.core.latent.scores import ranked_by_error

# kind: (dialog title, suggested name, filter); "frames" asks for a folder instead.
DIALOGS = {
    "csv": ("Export codes and positions", "latent_codes.csv", "CSV (*.csv)"),
    "npy": ("Export codes and positions", "latent_codes.npy", "NumPy (*.npy)"),
    "anomalies": ("Export the error ranking", "anomalies.csv", "CSV (*.csv)"),
    "png": ("Export the strip", "interpolation.png", "PNG (*.png)"),
    "gif": ("Export an animated GIF", "interpolation.gif", "GIF (*.gif)"),
}


class ExportActions(QObject):
    """Writes what the explorer shows, to paths given or asked for.

    Parameters
    ----------
    parent : QWidget
        Owns the dialogs.
    codes : callable
        Returns the shown (FolderCodes, LatentMap), either None when nothing is shown.
    frames : callable
        Returns the interpolation frames (n, S, S, C), or None.

    Signals
    -------
    wrote(str)
        A status line after a file was written.
    failed(str, str)
        A title and a one-line message when writing failed.
    """

    wrote = Signal(str)
    failed = Signal(str, str)

    def __init__(self, parent: QWidget,
                 codes: Callable[[], tuple[FolderCodes | None, LatentMap | None]],
                 frames: Callable[[], np.ndarray | None]) -> None:
        super().__init__(parent)
        self._widget = parent
        self._codes = codes
        self._frames = frames

    def _need_codes(self) -> tuple[FolderCodes, LatentMap]:
        data, latent_map = self._codes()
        if data is None or latent_map is None:
            raise UserError("nothing to export yet: open a model and a folder")
        return data, latent_map

    def _need_frames(self) -> np.ndarray:
        frames = self._frames()
        if frames is None:
            raise UserError("no interpolation yet: Shift+click two points")
        return frames

    def table(self, path: str) -> Path:
        """Write codes, positions, paths, labels and errors (.csv or .npy)."""
        data, lm = self._need_codes()
        return write_table(path, data.codes, lm.positions, data.paths, data.labels, data.errors)

    def anomalies(self, path: str) -> Path:
        """Write the images ranked by reconstruction error (CSV)."""
        data, _ = self._need_codes()
        return write_anomalies(path, ranked_by_error(data.errors), data.paths, data.labels,
                               data.errors)

    def strip(self, path: str) -> Path:
        return save_strip(self._need_frames(), path)

    def gif(self, path: str) -> Path:
        return save_gif(self._need_frames(), path)

    def frames(self, folder: str) -> list[Path]:
        return save_frames(self._need_frames(), folder)

    def ask(self, kind: str) -> None:
        """Ask where to write ``kind`` ("csv", "npy", "anomalies", "png", "gif", "frames"),
        then write it."""
        if kind == "frames":
            target = QFileDialog.getExistingDirectory(self._widget, "Folder for the frames")
        else:
            title, name, filters = DIALOGS[kind]
            target, _ = QFileDialog.getSaveFileName(self._widget, title, name, filters)
        if not target:
            return
        action = {"csv": self.table, "npy": self.table, "anomalies": self.anomalies,
                  "png": self.strip, "gif": self.gif, "frames": self.frames}[kind]
        try:
            written = action(target)
        except (OSError, ValueError, UserError) as exc:
            self.failed.emit("Cannot export", str(exc))
        else:
            self.wrote.emit(f"wrote {target if isinstance(written, list) else written}")
