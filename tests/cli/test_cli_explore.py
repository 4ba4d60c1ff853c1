"""The explorer's rankings and exports on the command line: anomalies, neighbours,
map positions from encode, GIF and frames from interpolate."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from PIL import Image

from aestudio.cli import main
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4,
                         hidden=16, depth=1)
    return save_model_file(tmp_path / "m.aemodel", model.eval())


def test_anomalies_ranks_every_image_worst_first(tiny_model, digit_folder, tmp_path, capsys):
    out = tmp_path / "ranking.csv"
    assert main(["anomalies", str(tiny_model), str(digit_folder), "--out", str(out),
                 "--show", "3"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 24 and [r["rank"] for r in rows[:3]] == ["1", "2", "3"]
    errors = [float(r["mse"]) for r in rows]
    assert errors == sorted(errors, reverse=True)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 and rows[0]["path"] in printed[0]
    assert main(["anomalies", str(tiny_model), str(digit_folder), "--out", str(out)]) == 2


def test_neighbours_lists_the_nearest_on_the_map(tiny_model, digit_folder, capsys):
    capsys.readouterr()
    assert main(["neighbours", str(tiny_model), str(digit_folder), "0/3.png", "-k", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("nearest to 0/3.png (0) on the codes map")
    assert len(lines) == 5 and all("0/3.png" not in line for line in lines[1:])
    assert main(["neighbours", str(tiny_model), str(digit_folder), "9/nope.png"]) == 2


def test_encode_writes_map_positions(tiny_model, digit_folder, tmp_path):
    out = tmp_path / "codes.csv"
    assert main(["encode", str(tiny_model), str(digit_folder), "--out", str(out),
                 "--layout", "pca"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 24 and {"x", "y", "z0", "z1"} <= set(rows[0])
    assert main(["encode", str(tiny_model), str(digit_folder), "--out",
                 str(tmp_path / "codes.npz"), "--layout", "pca"]) == 2


def test_interpolate_writes_a_gif_and_frames(tiny_model, digit_folder, tmp_path):
    a, b = digit_folder / "0" / "0.png", digit_folder / "1" / "0.png"
    gif, frames = tmp_path / "walk.gif", tmp_path / "frames"
    assert main(["interpolate", str(tiny_model), str(a), str(b), "--steps", "5", "--out",
                 str(gif), "--frames", str(frames)]) == 0
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.size == (64, 64)  # enlarged 4 times
    assert len(list(frames.glob("*.png"))) == 5
