"""The one family of errors a person can cause and fix, and how any error reads in one line.

Every entry point (a CLI command, a GUI job) catches :class:`UserError` and the disk errors
below once, and shows :func:`describe_error`'s line; anything else is a bug and is shown with
a line asking for a report.
"""

from __future__ import annotations

import errno
import os

__all__ = [
    "ConfigError",
    "DatasetError",
    "ImageReadError",
    "ModelFileError",
    "NoiseSpecError",
    "TrainingError",
    "UserError",
    "describe_error",
    "is_user_error",
]

REPORT_LINE = "This is a bug in aestudio; please report it with the details."


class UserError(Exception):
    """An expected failure with a message written for people (one line)."""


class ConfigError(UserError, ValueError):
    """A bad configuration value: the message names the field and the allowed values."""


class DatasetError(UserError, ValueError):
    """A folder that cannot be used for training: missing, empty, or no usable images."""


class ImageReadError(UserError, ValueError):
    """A file that cannot be read as an image; the message names the file and the reason."""


class ModelFileError(UserError, ValueError):
    """A file that is not a usable aestudio model file."""


class NoiseSpecError(UserError, ValueError):
    """A noise description that cannot be parsed."""


class TrainingError(UserError, RuntimeError):
    """Training cannot go on (for example the loss became NaN); the last good model is kept."""


# Disk errors a person causes and can fix, by errno, with the words for them.
_DISK_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "no such file or folder",
    errno.EEXIST: "it already exists",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EIO: "an input/output error",
    errno.EFBIG: "the file is too large for the disk",
    errno.ELOOP: "its symbolic links go round in a loop",
    errno.ENXIO: "no such device",
}


def is_user_error(exc: BaseException) -> bool:
    """True when ``exc`` is an expected failure rather than a bug."""
    if isinstance(exc, UserError):
        return True
    if isinstance(exc, UnicodeError) and not isinstance(exc, UnicodeDecodeError | UnicodeEncodeError):
        return False
    if isinstance(exc, UnicodeEncodeError | UnicodeDecodeError):
        # Raised for file names that are not valid UTF-8 when they are printed or encoded.
        return True
    return isinstance(exc, OSError) and exc.errno in _DISK_REASONS


def _disk_message(exc: OSError) -> str:
    reason = _DISK_REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    name = exc.filename
    if name is None:
        return f"Cannot use the file: {reason}"
    shown = os.fsdecode(name) if isinstance(name, bytes) else str(name)
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{shown}: {reason}"


def _one_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def describe_error(exc: BaseException) -> str:
    """One line for people: the message of an expected failure, or a bug's type and a plea.

    Parameters
    ----------
    exc : BaseException
        Any exception caught at an entry point.

    Returns
    -------
    str
        For a :class:`UserError` its first line; for a disk error the file and the reason
        ("out/a.png: the disk is full"); for anything else the exception's type and message
        followed by :data:`REPORT_LINE`.
    """
    if isinstance(exc, UserError):
        return _one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, OSError) and exc.errno in _DISK_REASONS:
        return _one_line(_disk_message(exc))
    if isinstance(exc, UnicodeEncodeError | UnicodeDecodeError):
        return "A file name or text is not valid UTF-8: " + _one_line(str(exc))
    text = _one_line(str(exc))
    head = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"{head}. {REPORT_LINE}"
