"""Writing what the latent explorer shows: code tables, interpolation strips, GIFs.

Code tables hold, per image, its path, label, 2-D map position, reconstruction error and
code, as CSV or as one structured ``.npy`` array (loadable with ``allow_pickle=False``).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from aestudio.core.io.atomic import atomic_write

__all__ = [
    "read_table",
    "save_frames",
    "save_gif",
    "save_strip",
    "strip_image",
    "write_anomalies",
    "write_table",
]

PathLike = str | os.PathLike[str]


def _write_csv(out: Path, fill: Callable[[Any], None]) -> None:
    """Write a CSV atomically: ``fill`` gets a :func:`csv.writer`; never half a file."""
    def write(handle) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        fill(csv.writer(text))
        text.flush()
        text.detach()  # the atomic writer closes the handle itself

    atomic_write(out, write)


def _write_image(out: Path, image: Image.Image, **options: Any) -> None:
    """Write a Pillow image atomically, the format from the suffix."""
    fmt = Image.registered_extensions().get(out.suffix.lower(), "PNG")
    atomic_write(out, lambda handle: image.save(handle, format=fmt, **options))


def _check_rows(n: int, **columns: object) -> None:
    for name, column in columns.items():
        if column is not None and len(column) != n:  # type: ignore[arg-type]
            raise ValueError(f"{name} has {len(column)} rows; the codes have {n}")  # type: ignore[arg-type]


def write_table(
    path: PathLike,
    codes: np.ndarray,
    positions: np.ndarray,
    paths: Sequence[str],
    labels: Sequence[str],
    errors: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> Path:
    """Write codes and map positions with paths and labels.

    Parameters
    ----------
    path : str or PathLike
        ``.csv`` (columns path, label, x, y, error, z0, z1, ...) or ``.npy`` (a structured
        array with fields path, label, x, y, error and code).
    codes, positions : numpy.ndarray
        (N, D) and (N, 2).
    paths, labels : sequence of str
        N each.
    errors : numpy.ndarray, optional
        (N,) reconstruction errors; NaN when absent.
    rows : numpy.ndarray, optional
        Write only these rows (a selection), in this order.

    Returns
    -------
    Path
    """
    out = Path(path)
    codes = np.asarray(codes, np.float32)
    n = len(codes)
    _check_rows(n, positions=positions, paths=paths, labels=labels, errors=errors)
    errs = np.full(n, np.nan, np.float32) if errors is None else np.asarray(errors, np.float32)
    pos = np.asarray(positions, np.float64)
    order = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        def fill(writer) -> None:
            writer.writerow(["path", "label", "x", "y", "error",
                             *[f"z{i}" for i in range(codes.shape[1])]])
            for i in order:
                writer.writerow([paths[i], labels[i], repr(float(pos[i, 0])),
                                 repr(float(pos[i, 1])), repr(float(errs[i])),
                                 *[repr(float(v)) for v in codes[i]]])
        _write_csv(out, fill)
    elif suffix == ".npy":
        width_p = max([len(p) for p in paths] + [1])
        width_l = max([len(x) for x in labels] + [1])
        dtype = np.dtype([("path", f"U{width_p}"), ("label", f"U{width_l}"), ("x", "f8"),
                          ("y", "f8"), ("error", "f4"), ("code", "f4", (codes.shape[1],))])
        table = np.zeros(len(order), dtype)
        table["path"] = np.asarray(paths, dtype=str)[order]
        table["label"] = np.asarray(labels, dtype=str)[order]
        table["x"], table["y"] = pos[order, 0], pos[order, 1]
        table["error"] = errs[order]
        table["code"] = codes[order]
        atomic_write(out, lambda handle: np.save(handle, table, allow_pickle=False))
    else:
        raise ValueError(f"choose a .csv or .npy file, not {out.name}")
    return out


def read_table(path: PathLike) -> dict[str, np.ndarray]:
    """Read a table written by :func:`write_table`.

    Returns
    -------
    dict
        ``path``, ``label`` (str arrays), ``positions`` (N, 2), ``error`` (N,), ``codes`` (N, D).
    """
    source = Path(path)
    if source.suffix.lower() == ".npy":
        table = np.load(source, allow_pickle=False)
        return {"path": table["path"], "label": table["label"],
                "positions": np.column_stack([table["x"], table["y"]]),
                "error": table["error"], "codes": table["code"]}
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    if header[:5] != ["path", "label", "x", "y", "error"]:
        raise ValueError(f"{source.name} is not a latent table (header {header[:5]})")
    numbers = np.array([[float(v) for v in row[2:]] for row in rows], np.float64)
    numbers = numbers.reshape(len(rows), len(header) - 2)
    return {"path": np.array([r[0] for r in rows], dtype=str),
            "label": np.array([r[1] for r in rows], dtype=str),
            "positions": numbers[:, :2], "error": numbers[:, 2].astype(np.float32),
            "codes": numbers[:, 3:].astype(np.float32)}


def write_anomalies(path: PathLike, order: np.ndarray, paths: Sequence[str],
                    labels: Sequence[str], errors: np.ndarray) -> Path:
    """CSV of images ranked by reconstruction error: rank, path, label, error, PSNR (dB)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    def fill(writer) -> None:
        writer.writerow(["rank", "path", "label", "mse", "psnr_db"])
        for rank, i in enumerate(np.asarray(order, np.int64), start=1):
            mse = float(errors[i])
            psnr = 10 * np.log10(1.0 / max(mse, 1e-12))
            writer.writerow([rank, paths[i], labels[i], f"{mse:.6g}", f"{psnr:.2f}"])
    _write_csv(out, fill)
    return out


def _to_uint8(frames: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(frames, np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)


def _pil(image: np.ndarray) -> Image.Image:
    pixels = _to_uint8(image)
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def strip_image(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """Frames (n, S, S, C) side by side with ``gap`` black pixels between them."""
    n, s, w, c = frames.shape
    strip = np.zeros((s, n * w + (n - 1) * gap, c), np.float32)
    for i, frame in enumerate(frames):
        strip[:, i * (w + gap):i * (w + gap) + w] = frame
    return strip


def save_strip(frames: np.ndarray, path: PathLike, scale: int = 1) -> Path:
    """Write frames (n, S, S, C) in [0, 1] as one PNG strip, enlarged ``scale`` times."""
    image = _pil(strip_image(frames))
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_image(out, image)
    return out


def save_gif(frames: np.ndarray, path: PathLike, *, frame_ms: int = 120, scale: int = 4,
             bounce: bool = True) -> Path:
    """Write frames (n, S, S, C) as a looping animated GIF.

    Parameters
    ----------
    frame_ms : int
        Duration of each frame.
    scale : int
        Nearest-neighbour enlargement (small images are hard to see at 1:1).
    bounce : bool
        Play back and forth, so the loop has no jump.
    """
    images = [_pil(f) for f in frames]
    if scale > 1:
        images = [im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST)
                  for im in images]
    if bounce and len(images) > 2:
        images = images + images[-2:0:-1]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_image(out, images[0], save_all=True, append_images=images[1:], duration=frame_ms,
                 loop=0)
    return out


def save_frames(frames: np.ndarray, folder: PathLike, stem: str = "frame") -> list[Path]:
    """Write each frame (n, S, S, C) as ``folder/stem_000.png`` ..."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = target / f"{stem}_{i:03d}.png"
        _write_image(path, _pil(frame))
        paths.append(path)
    return paths
