"""``aestudio smoke`` end to end: the real window trains briefly and saves a PNG per panel."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage


@pytest.mark.slow
def test_smoke_command_writes_a_png_per_panel(tmp_path):
    out = tmp_path / "shots"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "aestudio", "smoke", "--out", str(out)],
                            capture_output=True, text=True, timeout=150, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    printed = [line for line in result.stdout.splitlines() if line.endswith(".png")]
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 4
    assert sorted(map(str, pngs)) == sorted(printed)
    names = " ".join(p.name for p in pngs)
    for part in ("dataset", "tab-training", "skipped-files", "about"):
        assert part in names
    for png in pngs:
        image = QImage(str(png))
        assert not image.isNull() and image.width() > 200 and image.height() > 200
    # The run used private settings: nothing was written to this test's settings folder.
    assert not (tmp_path / "settings").exists()
