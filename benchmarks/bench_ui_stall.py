"""Event-loop stalls of the main window while a model trains on the CPU.

The real :class:`~aestudio.ui.main_window.MainWindow` (offscreen) opens the bundled demo
digits and trains the training panel's default model through the panel itself
(``training_panel.start``), as a person pressing Start would. Once training steps are under
way (and after a short warm-up), a ``QTimer`` beats every 5 ms on the UI thread and the gaps
between its beats are recorded for ~20 s (~4 s with ``--quick``). A stall is a gap minus the
5 ms period.

- ``ui_max_stall_ms``: the longest stall.
- ``ui_p99_stall_ms``: the 99th percentile of stalls.
- ``ui_max_own_stall_ms`` (Linux): the longest stall less the time the UI thread spent
  runnable but waiting for a CPU (``/proc/thread-self/schedstat``): what the app's own work,
  the GIL and the garbage collector cost, without the share of other processes on a busy
  machine.

Settings, model files and caches go to a temporary folder.

    python -m benchmarks.bench_ui_stall [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Figure, cores, print_figures

PERIOD_MS = 5
WAIT_LIMIT_S = 120.0


def _private_folders(home: Path) -> None:
    for name in ("AESTUDIO_SETTINGS_DIR", "AESTUDIO_MODELS_DIR", "AESTUDIO_CACHE_DIR"):
        os.environ[name] = str(home / name.split("_")[1].lower())


def _wait(predicate, what: str, limit_s: float = WAIT_LIMIT_S) -> None:
    """Run the event loop (in short blocking slices, no sleeps) until ``predicate()``."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + limit_s
    started = time.monotonic()
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    print(f"ui-stall: {what}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


class _RunQueueClock:
    """Seconds this thread has waited, runnable, for a CPU (Linux); None elsewhere."""

    def __init__(self) -> None:
        try:
            self._file = open("/proc/thread-self/schedstat", "rb", buffering=0)  # noqa: SIM115
        except OSError:
            self._file = None

    def __call__(self) -> float | None:
        if self._file is None:
            return None
        self._file.seek(0)
        return int(self._file.read(128).split()[1]) / 1e9

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _heartbeat(seconds: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Beat every PERIOD_MS on the UI thread for ``seconds``.

    Returns the gaps between beats and the run-queue wait within each gap (ms; None when
    the system does not tell).
    """
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    waited = _RunQueueClock()
    beats: list[tuple[float, float | None]] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(PERIOD_MS)
    timer.timeout.connect(lambda: beats.append((time.perf_counter(), waited())))
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    waited.close()
    gaps = np.diff([t for t, _ in beats]) * 1000.0
    queued = [q for _, q in beats]
    if any(q is None for q in queued):
        return gaps, None
    return gaps, np.diff(np.asarray(queued, dtype=np.float64)) * 1000.0


def measure(seconds: float, warm_up_s: float) -> tuple[np.ndarray, np.ndarray | None,
                                                       dict[str, str]]:
    """Heartbeat gaps and run-queue waits (ms) while the window trains; facts for the note."""
    from aestudio.resources import demo_folder
    from aestudio.ui.app import make_application
    from aestudio.ui.main_window import MainWindow

    app = make_application()
    window = MainWindow()
    facts: dict[str, str] = {}
    try:
        window.resize(1440, 900)
        window.show()
        _wait(window.has_painted, "the first paint")
        window.start_warm_up()
        opened: list[str] = []
        window.folder_opened.connect(opened.append)
        window.open_folder(demo_folder("digits"))
        _wait(lambda: bool(opened), "the demo digits")
        panel = window.training_panel
        window.tabs.setCurrentWidget(window.training_tab)  # the loss plot and samples show
        _wait(panel.environment_ready, "the training engine")
        facts["model"] = str(panel.current_model())
        budget_min = (seconds + warm_up_s + 60) / 60
        panel.start({"epochs": 100_000, "max_minutes": budget_min})
        # Measure only while steps run: after the images are read and the first losses came.
        _wait(lambda: len(panel.loss_plot.train) >= 2, "the first training steps")
        _wait_seconds(warm_up_s)
        if not panel.is_training():
            raise RuntimeError("training ended before the measurement")
        steps_before = _last_step(panel)
        gaps, queued = _heartbeat(seconds)
        if not panel.is_training():
            raise RuntimeError("training ended during the measurement")
        facts["steps"] = str(_last_step(panel) - steps_before)
        facts["samples"] = str(panel.sample_grid.refresh_count)
    finally:
        panel = window.training_panel
        if panel.is_training():
            panel.stop_training(60_000)
            _wait(lambda: not panel.is_training(), "the training to stop", 60)
        window.close()
        window.pool.stop_all(60_000)
    del app
    return gaps, queued, facts


def _last_step(panel) -> int:
    steps = panel.loss_plot.train.x
    return int(steps[-1]) if len(steps) else 0


def _wait_seconds(seconds: float) -> None:
    end = time.monotonic() + seconds
    _wait(lambda: time.monotonic() >= end, "the warm-up")


def run(quick: bool = False) -> dict[str, Figure]:
    seconds, warm_up_s = (4.0, 1.0) if quick else (20.0, 3.0)
    with tempfile.TemporaryDirectory(prefix="aestudio-bench-ui-") as home:
        _private_folders(Path(home))
        gaps, queued, facts = measure(seconds, warm_up_s)
    stalls = np.clip(gaps - PERIOD_MS, 0, None)
    p99 = float(np.percentile(stalls, 99))
    worst_at = int(np.argmax(stalls))
    worst = float(stalls[worst_at])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(gaps)} beats, {facts.get('steps')} training steps, max {worst:.1f} ms, "
          f"p99 {p99:.1f} ms, median gap {np.median(gaps):.2f} ms, load {load:.1f}",
          file=sys.stderr)
    note = (f"{facts.get('model')} on the demo digits, CPU ({cores()} cores, load "
            f"{load:.1f}); {seconds:.0f} s, {len(gaps)} beats, {facts.get('steps')} steps")
    figures = {
        "ui_max_stall_ms": Figure(worst, "ms", goal="<= 50", note=note),
        "ui_p99_stall_ms": Figure(p99, "ms", goal="<= 20", note=note),
    }
    if queued is not None:
        own = np.clip(gaps - queued - PERIOD_MS, 0, None)
        figures["ui_max_stall_ms"].note = (
            f"{note}; {queued[worst_at]:.0f} ms of the longest stall was waiting for a CPU")
        figures["ui_max_own_stall_ms"] = Figure(
            float(own.max()), "ms", goal="report",
            note="stalls less the UI thread's run-queue wait (other processes' share)")
    return figures


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_figures(run(parser.parse_args().quick))
