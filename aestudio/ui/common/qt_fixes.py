"""Work-arounds for defects of the installed Qt binding, applied once on import.

``SignalInstance.emit`` of PySide6 6.12.0 returns ``True`` without taking a reference to
it. On Python 3.11 every ``emit()`` from Python therefore lowers the reference count of
``True`` by one, and after a few hundred emits the interpreter aborts with "Fatal Python
error: bool_dealloc". (From Python 3.12 ``True`` is immortal and nothing shows.) The check
below measures the defect instead of trusting version numbers, and only then wraps ``emit``
to add the missing reference.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 8


class _Probe(QObject):
    fired = Signal()


def emit_loses_references() -> bool:
    """True when calling ``emit()`` lowers the reference count of its result."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    probe.deleteLater()
    return lost >= _PROBES // 2


def _patch_emit() -> None:
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def emit(self: SignalInstance, *args: object) -> object:
        result = original(self, *args)
        incref(result)  # the reference the binding forgot to take
        return result

    emit.__doc__ = original.__doc__
    SignalInstance.emit = emit  # type: ignore[method-assign]


def apply() -> bool:
    """Apply the work-arounds this binding needs; True when ``emit`` was patched."""
    if getattr(SignalInstance.emit, "_aestudio_fixed", False):
        return True
    if not emit_loses_references():
        return False
    _patch_emit()
    SignalInstance.emit._aestudio_fixed = True  # type: ignore[attr-defined]
    return True


EMIT_PATCHED = apply()
