"""``aestudio noise``: the estimate per image, bad files skipped with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from aestudio.cli import main
from aestudio.core.io.write import write_image
from tests.core.data.test_noise_estimate import box_blurred, scene


def _photos(root: Path) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir()
    clean = scene()
    white = clean + rng.normal(0, 10 / 255, clean.shape)
    spread = clean + box_blurred(rng.normal(0, 1, clean.shape)) * 10 / 255
    for name, image in (("white.png", white), ("spread.png", spread)):
        write_image(root / name, np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
    return root


def test_noise_prints_level_correlation_and_spacing(tmp_path: Path, capsys) -> None:
    folder = _photos(tmp_path / "photos")
    assert main(["noise", str(folder), "--json"]) == 0
    rows = {Path(r["file"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert abs(rows["white.png"]["sigma"] - 10) < 2.5
    assert rows["white.png"]["spacing"] == 1
    assert rows["spread.png"]["correlation"] > 0.3 and rows["spread.png"]["spacing"] >= 2
    assert main(["noise", str(folder / "white.png")]) == 0
    line = capsys.readouterr().out
    assert "white.png: noise about" in line and "independent" in line
    assert "self-supervised spacing 1" in line


def test_an_unreadable_file_is_skipped_with_its_reason(tmp_path: Path, capsys) -> None:
    folder = _photos(tmp_path / "photos")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    assert main(["noise", str(folder / "white.png"), str(broken)]) == 3
    captured = capsys.readouterr()
    assert "white.png: noise about" in captured.out
    assert "skipped" in captured.err and "broken.png" in captured.err
    assert main(["noise", str(broken)]) == 2
