"""The one folder walker: which files under a folder are images, in a fixed order.

Every part of the app that lists image files (the dataset scan, the batch denoiser) uses
:func:`list_image_files`, so they agree on what a folder holds.

Rules:

- names starting with "." (hidden files and folders, and the ``.NAME.RANDOM.aestudio-tmp``
  files an atomic write leaves while it runs) are skipped;
- symbolic links are followed, to files and to folders; a folder reached a second time (a
  link back up, two links to one place) is not entered again, so links never loop; a link
  to nothing is reported when its name has a wanted suffix;
- a name that is not valid UTF-8 is reported, not listed (it could not be shown, written to
  a cache key or mirrored in an output folder); a folder with such a name is not entered;
- a folder that cannot be read is reported and the walk goes on;
- files are listed by their path relative to the folder, "/"-separated, sorted by their
  parts (so "a/z.png" comes before "a-b.png").
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from aestudio.core.facts import TEMP_SUFFIX
from aestudio.core.io.formats import IMAGE_SUFFIXES

__all__ = ["FolderListing", "WalkProblem", "list_image_files"]


@dataclass(frozen=True)
class WalkProblem:
    """A file or folder the walk could not list, and why (one readable line)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class FolderListing:
    """What :func:`list_image_files` found.

    ``files`` are relative "/"-separated paths, sorted by their parts; ``problems`` the
    entries that could not be listed; ``other_files`` the number of files seen whose suffix
    was not wanted.
    """

    root: Path
    files: tuple[str, ...]
    problems: tuple[WalkProblem, ...]
    other_files: int

    def paths(self) -> list[Path]:
        """The files as paths below ``root``.

        Returns
        -------
        list of Path
            ``root / relative`` for each file, in listing order.
        """
        return [self.root / rel for rel in self.files]


def _valid_name(name: str) -> bool:
    # os.scandir turns undecodable bytes into lone surrogates, which cannot be encoded.
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def list_image_files(
    folder: str | os.PathLike[str],
    recursive: bool = True,
    *,
    suffixes: Collection[str] | None = IMAGE_SUFFIXES,
    exclude: str | os.PathLike[str] | None = None,
) -> FolderListing:
    """List the image files under a folder, following the module's rules.

    Parameters
    ----------
    folder : str or PathLike
        The folder to walk ("~" is expanded).
    recursive : bool
        Walk subfolders too; otherwise only the files directly in ``folder``.
    suffixes : collection of str, optional
        Lower-case suffixes with the dot (default: every image suffix the app reads); a
        file is listed when its suffix, lower-cased, is one of them. None lists every file.
    exclude : str or PathLike, optional
        A folder not to enter (e.g. the output folder inside the input folder); compared
        by identity on disk, so another path to it is excluded too.

    Returns
    -------
    FolderListing
        The files, the problems met, and how many other files were seen.

    Raises
    ------
    NotADirectoryError
        ``folder`` is not a folder.
    OSError
        ``folder`` itself cannot be read.
    """
    root = Path(folder).expanduser()
    root_stat = root.stat()
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    wanted = None if suffixes is None else frozenset(suffixes)
    seen = {(root_stat.st_dev, root_stat.st_ino)}
    if exclude is not None:
        try:
            ex = os.stat(exclude)
            seen.add((ex.st_dev, ex.st_ino))
        except OSError:
            pass  # nothing there to exclude
    found: list[tuple[str, ...]] = []
    problems: list[WalkProblem] = []
    others = 0
    # Paths stay strings and tuples: a Path per file costs more than the walk itself.
    stack: list[tuple[str, tuple[str, ...]]] = [(str(root), ())]
    while stack:
        here, rel = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(
                    (e for e in it if not e.name.startswith(".")
                     and not e.name.endswith(TEMP_SUFFIX)),
                    key=lambda e: e.name,
                )
        except OSError as e:
            problems.append(WalkProblem(Path(here), f"cannot read folder: {e.strerror or e}"))
            continue
        subfolders: list[tuple[str, tuple[str, ...]]] = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():
                    if not recursive:
                        continue
                    if not _valid_name(name):
                        problems.append(WalkProblem(Path(entry.path),
                                                    "folder name is not valid UTF-8"))
                        continue
                    st = entry.stat()
                    if (st.st_dev, st.st_ino) not in seen:
                        seen.add((st.st_dev, st.st_ino))
                        subfolders.append((entry.path, (*rel, name)))
                    continue
                suffix = os.path.splitext(name)[1].lower()
                if wanted is not None and suffix not in wanted:
                    if entry.is_file():
                        others += 1
                    continue
                if entry.is_file():
                    if _valid_name(name):
                        found.append((*rel, name))
                    else:
                        problems.append(WalkProblem(Path(entry.path),
                                                    "file name is not valid UTF-8"))
                elif entry.is_symlink():
                    problems.append(WalkProblem(Path(entry.path), "broken symbolic link"))
            except OSError as e:
                problems.append(WalkProblem(Path(entry.path), f"cannot read: {e.strerror or e}"))
        stack.extend(reversed(subfolders))  # depth first, in name order
    found.sort()
    return FolderListing(root, tuple("/".join(parts) for parts in found), tuple(problems),
                         others)
