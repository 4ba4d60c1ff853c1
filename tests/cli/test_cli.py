"""The command line end to end on tiny generated folders."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aestudio.cli import build_parser, main
from aestudio.core.io.read import read_image
from aestudio.core.models.inference import decode
from aestudio.core.models.modelfile import load_model_file

TINY_AE = ["--option", "width=4", "--option", "hidden=16", "--option", "depth=1"]


@pytest.fixture
def trained_run(digit_folder: Path, tmp_path: Path, capsys) -> tuple[Path, str]:
    """A tiny model trained by the CLI on a folder with two broken files, and its stderr."""
    (digit_folder / "1" / "broken.png").write_bytes(b"not an image at all")
    (digit_folder / "0" / "empty.png").write_bytes(b"")
    out = tmp_path / "m.aemodel"
    capsys.readouterr()
    code = main(["train", str(digit_folder), "--model", "conv-ae", "--latent-dim", "2",
                 "--epochs", "2", "--size", "16", "--batch-size", "8", "--device", "cpu",
                 "--out", str(out), *TINY_AE])
    assert code == 0
    return out, capsys.readouterr().err


@pytest.fixture
def trained(trained_run: tuple[Path, str]) -> Path:
    return trained_run[0]


def test_train_reports_broken_files_and_writes_a_model(trained_run: tuple[Path, str]) -> None:
    trained, err = trained_run
    assert "broken.png" in err and "empty.png" in err
    assert "model written to" in err
    assert load_model_file(trained).model.latent_dim == 2


def test_encode_decode_reconstruct_interpolate(trained: Path, digit_folder: Path,
                                               tmp_path: Path, capsys) -> None:
    codes = tmp_path / "codes.csv"
    assert main(["encode", str(trained), str(digit_folder), "--out", str(codes)]) == 0
    rows = list(csv.reader(codes.open()))
    assert rows[0] == ["path", "label", "z0", "z1"] and len(rows) == 25
    assert rows[1][0] == "0/0.png" and rows[1][1] == "0"
    assert main(["encode", str(trained), str(digit_folder), "--out",
                 str(tmp_path / "codes.npz")]) == 0
    assert np.load(tmp_path / "codes.npz")["codes"].shape == (24, 2)

    out = tmp_path / "decoded.png"
    assert main(["decode", str(trained), "--z", "0.5,-1.2", "--out", str(out)]) == 0
    image, _ = read_image(out)
    expected = decode(load_model_file(trained).model, [[0.5, -1.2]])[0]
    assert np.abs(image / 255.0 - expected).max() <= 0.5 / 255 + 1e-6

    rec = tmp_path / "rec"
    assert main(["reconstruct", str(trained), str(digit_folder / "0"), "--out", str(rec)]) == 0
    assert len(list(rec.glob("*.png"))) == 12 and (rec / "3.png").exists()

    strip = tmp_path / "strip.png"
    a, b = digit_folder / "0" / "0.png", digit_folder / "1" / "0.png"
    assert main(["interpolate", str(trained), str(a), str(b), "--steps", "5", "--mode",
                 "slerp", "--out", str(strip)]) == 0
    assert read_image(strip)[0].shape == (16, 80, 1)


def test_info_and_evaluate(trained: Path, digit_folder: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["info", str(trained)]) == 0
    assert "conv-ae" in capsys.readouterr().out
    assert main(["evaluate", str(trained), str(digit_folder), "--json",
                 "--noise", "gaussian:25"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 24 and 0 < report["psnr"] < 60 and "noisy_psnr" in report


def test_denoise_keeps_stems_format_and_bit_depth(photo_folder: Path, tmp_path: Path) -> None:
    model = tmp_path / "d.aemodel"
    assert main(["train", str(photo_folder), "--model", "denoiser", "--task", "denoise",
                 "--patch", "16", "--epochs", "1", "--batch-size", "4", "--device", "cpu",
                 "--option", "width=8", "--option", "depth=2", "--out", str(model)]) == 0
    sixteen = tmp_path / "sixteen"
    sixteen.mkdir()
    rng = np.random.default_rng(0)
    gray16 = rng.integers(0, 65535, (40, 30), dtype=np.uint16)
    Image.fromarray(gray16).save(sixteen / "scan.png")
    out = tmp_path / "out"
    assert main(["denoise", str(model), str(sixteen), str(photo_folder / "photo0.png"),
                 "--out", str(out), "--tile", "64"]) == 0
    result, info = read_image(out / "scan.png")
    assert result.dtype == np.uint16 and result.shape == (40, 30, 1)
    assert (out / "photo0.png").exists()
    sidecar = json.loads((out / "scan.png.json").read_text())
    assert sidecar["model"] == "denoiser" and sidecar["bit_depth"] == 16


def test_bad_inputs_get_one_line_errors(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", str(empty), "--out", str(tmp_path / "x.aemodel")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aestudio: error:") and "\n" not in err
    garbage = tmp_path / "garbage.aemodel"
    garbage.write_bytes(b"\x89PNG not a model" * 50)
    for command in (["info", str(garbage)], ["decode", str(garbage), "--z", "1,2", "--out",
                                             str(tmp_path / "x.png")]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert "not an aestudio model file" in err and "\n" not in err


def test_refuses_to_overwrite_an_existing_model(trained: Path, digit_folder: Path,
                                                capsys) -> None:
    assert main(["train", str(digit_folder), "--out", str(trained)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_resume_continues_a_model(trained: Path, digit_folder: Path) -> None:
    before = load_model_file(trained).training_state["step"]
    assert main(["train", str(digit_folder), "--out", str(trained), "--resume",
                 "--epochs", "3"]) == 0
    after = load_model_file(trained).training_state["step"]
    assert after == before * 3 // 2


def test_every_subcommand_has_help() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in ("train", "encode", "decode", "reconstruct", "interpolate", "denoise",
                 "evaluate", "info", "smoke", "gui"):
        assert commands[name].format_help().startswith("usage: aestudio " + name)


def test_module_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "aestudio", "info", str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "no such model file" in run.stderr


def test_evaluate_probe_scores_the_codes(trained: Path, digit_folder: Path, capsys) -> None:
    assert main(["evaluate", str(trained), str(digit_folder), "--probe", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= report["probe_accuracy"] <= 1.0 and report["labels"] >= 2
    assert report["n_fit"] + report["n_test"] == 24
