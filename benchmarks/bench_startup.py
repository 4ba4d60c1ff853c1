"""Start-up time of the app: launch to the main window's first paint, and to torch ready.

- ``startup_to_window_s``: seconds from process start to the main window's first paint, as
  the app reports it with ``AESTUDIO_STARTUP_TIMING=1`` (counted from the kernel's start
  time of the process, so the interpreter's own start-up is included). Median of 5 launches
  (1 with ``--quick``).
- ``startup_panels_ready_s``: seconds from process start until every panel is built (the
  window shows its frame first, with a "Loading" line in each tab, and builds the panels
  one per event-loop turn after its first paint).
- ``startup_torch_ready_s``: seconds from process start until torch, imported in the
  background after the first paint, is loaded and the compute device is known.

Each launch is the real entry point, ``python -m aestudio``, on the offscreen Qt platform,
with settings, model files and caches in a temporary folder. Once the timing lines are
printed, the process is ended (the app has no work worth waiting for by then). Launches
may write byte code (``PYTHONDONTWRITEBYTECODE`` is cleared for them), as an installed
package has it, and one unmeasured launch of each program comes first.

- ``startup_x11_ratio``: on a real X screen (Xvfb), seconds from launch until the main
  window is visible (``xdotool search --onlyvisible`` polled every 20 ms), divided by the
  same for a bare PySide6 window from the same Python, measured in the same run (medians of
  9 alternated launches, 3 with ``--quick``).
  Skipped, with a line saying so, where Xvfb or xdotool is missing.

    python -m benchmarks.bench_startup [--quick]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import ROOT, Figure, print_figures

LAUNCH_TIMEOUT_S = 120.0
PAINT_LINE = re.compile(r"startup: first paint of the window after ([0-9.]+) s")
PANELS_LINE = re.compile(r"startup: panels ready after ([0-9.]+) s")
TORCH_LINE = re.compile(r"startup: torch ready \((.*)\) after ([0-9.]+) s")


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _end(process: subprocess.Popen) -> None:
    """Ask a launched app to quit; kill it if it does not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _environment(**extra: str) -> dict[str, str]:
    """The launches' environment: this one, with byte code allowed, plus ``extra``."""
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def launch_once(home: Path) -> tuple[float, float, float, str]:
    """Start the app, wait for its three timing lines, end it.

    Returns (seconds to first paint, to panels ready, to torch ready, device in words).
    """
    env = _environment(**{
        "QT_QPA_PLATFORM": "offscreen",
        "AESTUDIO_STARTUP_TIMING": "1",
        "AESTUDIO_SETTINGS_DIR": str(home / "settings"),
        "AESTUDIO_MODELS_DIR": str(home / "models"),
        "AESTUDIO_CACHE_DIR": str(home / "cache"),
    })
    process = subprocess.Popen(
        [sys.executable, "-m", "aestudio"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(process.stderr, lines), daemon=True).start()
    paint = panels = torch = None
    device = ""
    seen: list[str] = []
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    try:
        while paint is None or panels is None or torch is None:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"no start-up timing after {LAUNCH_TIMEOUT_S:.0f} s") from None
            if line is None:
                tail = "".join(seen[-10:])
                raise RuntimeError(f"the app ended before reporting its start-up:\n{tail}")
            seen.append(line)
            if match := PAINT_LINE.search(line):
                paint = float(match.group(1))
            elif match := PANELS_LINE.search(line):
                panels = float(match.group(1))
            elif match := TORCH_LINE.search(line):
                device, torch = match.group(1), float(match.group(2))
    finally:
        _end(process)
    return paint, panels, torch, device


BARE_WINDOW = """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.setWindowTitle("bare-pyside6-window")
window.resize(1440, 900)
window.show()
app.exec()
"""


def _visible_after(command: list[str], env: dict[str, str], title: str) -> float:
    """Seconds from starting ``command`` until a visible window titled ``title`` exists."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        while time.monotonic() - started < LAUNCH_TIMEOUT_S:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                                   env=env, capture_output=True)
            if found.returncode == 0 and found.stdout.strip():
                return time.monotonic() - started
            if process.poll() is not None:
                said = process.stderr.read().strip().splitlines()[-3:]
                raise RuntimeError(f"{title!r} ended (status {process.returncode}) before "
                                   f"showing a window: {' / '.join(said)}")
            time.sleep(0.02)
        raise RuntimeError(f"no visible window after {LAUNCH_TIMEOUT_S:.0f} s")
    finally:
        _end(process)


def x11_ratio(runs: int) -> tuple[float, list[float], list[float]] | None:
    """(ratio of medians, aestudio's times, bare PySide6's times) on Xvfb, or None."""
    import shutil

    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        print("startup on X: skipped (Xvfb or xdotool is not installed)", file=sys.stderr)
        return None
    # Xvfb picks a free display and writes its number once it accepts clients.
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-noreset", "-screen", "0", "1920x1080x24",
                               "-nolisten", "tcp"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        number = server.stdout.readline().strip()
        if not number.isdigit():
            raise RuntimeError("Xvfb did not start")
        display = f":{number}"
        ours, bare = [], []
        with tempfile.TemporaryDirectory(prefix="aestudio-bench-x11-") as home:
            env = _environment(DISPLAY=display, QT_QPA_PLATFORM="xcb",
                               AESTUDIO_SETTINGS_DIR=str(Path(home) / "settings"),
                               AESTUDIO_MODELS_DIR=str(Path(home) / "models"),
                               AESTUDIO_CACHE_DIR=str(Path(home) / "cache"))
            # Unmeasured first launches fill the file cache and write byte code.
            _visible_after([sys.executable, "-c", BARE_WINDOW], env, "bare-pyside6-window")
            _visible_after([sys.executable, "-m", "aestudio"], env, "aestudio")
            for _ in range(runs):  # alternated, so that both see the same machine
                bare.append(_visible_after([sys.executable, "-c", BARE_WINDOW], env,
                                           "bare-pyside6-window"))
                ours.append(_visible_after([sys.executable, "-m", "aestudio"], env,
                                           "aestudio"))
    finally:
        server.terminate()
        server.wait()
    return statistics.median(ours) / statistics.median(bare), ours, bare


def run(quick: bool = False) -> dict[str, Figure]:
    runs = 1 if quick else 5
    paints, panel_times, torches = [], [], []
    device = ""
    for i in range(runs + 1):
        with tempfile.TemporaryDirectory(prefix="aestudio-bench-startup-") as home:
            paint, panels, torch, device = launch_once(Path(home))
        if i == 0:
            continue  # the unmeasured first launch
        paints.append(paint)
        panel_times.append(panels)
        torches.append(torch)
        print(f"launch {i}: window {paint:.3f} s, panels {panels:.3f} s, "
              f"torch ready {torch:.3f} s", file=sys.stderr)
    how = f"median of {runs} launches" if runs > 1 else "1 launch"
    note = f"python -m aestudio, offscreen; {how}: " + ", ".join(f"{p:.2f}" for p in paints)
    figures = {
        "startup_to_window_s": Figure(statistics.median(paints), "s", goal="<= 1.5",
                                      note=note),
        "startup_panels_ready_s": Figure(statistics.median(panel_times), "s", goal="report",
                                         note="every panel built, one per event-loop turn"),
        "startup_torch_ready_s": Figure(statistics.median(torches), "s", goal="report",
                                        note=f"torch imported after the first paint; {device}"),
    }
    measured = x11_ratio(3 if quick else 9)
    if measured is not None:
        ratio, ours, bare = measured
        figures["startup_x11_ratio"] = Figure(
            ratio, "x", f"bare PySide6 window: {statistics.median(bare):.2f} s", "<= 1.5",
            "Xvfb, launch to a visible window; aestudio "
            + ", ".join(f"{t:.2f}" for t in ours) + " s")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_figures(run(parser.parse_args().quick))
