"""The decoded-set cache: fixed-size decodes kept on disk as .npy, served by a memory map.

An entry is keyed by the folder, every file's relative path, mtime and size, the size,
channels and dtype; its JSON (written after the array) lists the decoded files and the
failures, so a cache hit gives the same set as a fresh decode.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from aestudio.core.data.records import ScanResult, Skipped
from aestudio.core.io.atomic import atomic_write

__all__ = ["default_cache_dir"]

_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """The decoded-set cache folder: ``$AESTUDIO_CACHE_DIR`` or ``~/.cache/aestudio``.

    Returns
    -------
    Path
        The folder (not created here).
    """
    env = os.environ.get("AESTUDIO_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "aestudio"


def cache_key(scan: ScanResult, size: int, channels: int, dtype: np.dtype) -> str:
    """Hash of the folder, every file's (relpath, mtime, size), the size and channels."""
    h = hashlib.sha256()
    head = {
        "v": _CACHE_VERSION,
        "root": str(scan.root.resolve()),
        "size": size,
        "channels": channels,
        "dtype": dtype.str,
    }
    h.update(json.dumps(head, sort_keys=True).encode())
    for i, r in enumerate(scan.images):
        kept = scan._kept.get(i)
        if kept is not None:
            sig = kept[1]  # the decode uses the bytes read at this (mtime, size)
        else:
            try:
                st = os.stat(r.path)
                sig = f"{st.st_mtime_ns}:{st.st_size}"
            except OSError:
                sig = "missing"
        h.update(f"\0{r.relpath}\0{sig}".encode())
    return h.hexdigest()[:40]


def _cache_paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    return cache_dir / f"decoded-{key}.npy", cache_dir / f"decoded-{key}.json"


def load_cache(
    scan: ScanResult, cache_dir: Path, key: str, dtype: np.dtype
) -> tuple[np.ndarray, list[int], list[Skipped], list[str]] | None:
    """(array, decoded indices, failures, notes) from the cache, or None on any mismatch."""
    npy, meta_path = _cache_paths(cache_dir, key)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("version") != _CACHE_VERSION:
            return None
        # Copy-on-write map: instant, writable for torch.from_numpy, never alters the file.
        arr = np.load(npy, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError, KeyError):
        return None
    by_relpath = {r.relpath: i for i, r in enumerate(scan.images)}
    try:
        ok = [by_relpath[p] for p in meta["decoded"]]
        failed = [Skipped(scan.images[by_relpath[p]].path, why) for p, why in meta["failed"]]
    except (KeyError, TypeError, ValueError):
        return None
    if arr.dtype != dtype or arr.ndim != 4 or arr.shape[0] != len(ok):
        return None
    return arr, ok, failed, list(meta.get("notes", []))


def store_cache(
    scan: ScanResult,
    cache_dir: Path,
    key: str,
    arr: np.ndarray,
    ok: list[int],
    failed: list[Skipped],
) -> str | None:
    """Write the cache entry (array first, its JSON last); a note if that failed."""
    npy, meta_path = _cache_paths(cache_dir, key)
    relpath = {r.path: r.relpath for r in scan.images} if failed else {}
    meta = {
        "version": _CACHE_VERSION,
        "root": str(scan.root),
        "shape": list(arr.shape),
        "dtype": arr.dtype.str,
        "decoded": [scan.images[i].relpath for i in ok],
        "failed": [[relpath[s.path], s.reason] for s in failed],
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(npy, lambda f: np.save(f, arr, allow_pickle=False))
        # The array is on disk before its JSON names it. The JSON itself need not be: after
        # a crash it is complete or unreadable, and an unreadable one is a cache miss.
        # So it skips the fsync.
        atomic_write(meta_path, lambda f: f.write(json.dumps(meta).encode("utf-8")),
                     durable=False)
    except OSError as e:
        return f"could not write the decode cache in {cache_dir}: {e.strerror or e}"
    return None
