"""Where the app keeps its settings (window layout, recent folders).

Settings use QSettings with the application's organisation and name. ``AESTUDIO_SETTINGS_DIR``
moves them into an INI file under that folder, which the tests and the smoke run use so that
they never touch a person's own settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings

ORGANIZATION = "aestudio"
APPLICATION = "aestudio"
SETTINGS_DIR_ENV = "AESTUDIO_SETTINGS_DIR"
RECENT_KEY = "recent/folders"
MAX_RECENT = 8


def identify_application() -> None:
    """Set the organisation and application names QSettings and dialogs use."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)


def app_settings() -> QSettings:
    """The app's settings store.

    Returns
    -------
    QSettings
        An INI file under ``$AESTUDIO_SETTINGS_DIR`` when that is set, else the platform's
        usual place (in the format :meth:`QSettings.defaultFormat` names).
    """
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        path = Path(folder).expanduser() / f"{APPLICATION}.ini"
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION,
                     APPLICATION)


def recent_folders(settings: QSettings | None = None) -> list[str]:
    """Recently opened folders, newest first."""
    settings = settings or app_settings()
    value = settings.value(RECENT_KEY, [])
    if isinstance(value, str):  # QSettings gives a bare string for a one-item list
        value = [value]
    return [str(v) for v in value or [] if v]


def remember_folder(path: str, settings: QSettings | None = None) -> list[str]:
    """Put ``path`` first in the recent folders (at most :data:`MAX_RECENT`); return them."""
    settings = settings or app_settings()
    path = str(Path(path))
    folders = [path] + [f for f in recent_folders(settings) if f != path]
    folders = folders[:MAX_RECENT]
    settings.setValue(RECENT_KEY, folders)
    settings.sync()
    return folders


def forget_folders(settings: QSettings | None = None) -> None:
    """Clear the recent folders."""
    settings = settings or app_settings()
    settings.remove(RECENT_KEY)
    settings.sync()
