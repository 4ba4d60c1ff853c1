"""Generated training options, the one error path and the progress bar of the CLI."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest
import torch

from aestudio.cli import build_parser, main
from aestudio.cli.progress import ProgressBar
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import read_model_meta, save_model_file

TINY_AE = ["--option", "width=4", "--option", "hidden=16", "--option", "depth=1"]


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4, hidden=16,
                         depth=1)
    return save_model_file(tmp_path / "m.aemodel", model.eval())


def _train_help() -> str:
    commands = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    return commands["train"].format_help()


def test_training_options_come_from_the_config(digit_folder: Path, tmp_path: Path) -> None:
    text = _train_help()
    # Options without a hand-written flag get one from TrainConfig's fields.
    for flag in ("--weight-decay", "--schedule", "--checkpoint-minutes", "--no-augment",
                 "--max-pixels"):
        assert flag in text
    assert "{cosine,constant}" in text and "Weight decay. (default: 0.0)" in text
    out = tmp_path / "m.aemodel"
    assert main(["train", str(digit_folder), "--size", "16", "--epochs", "1", "--device", "cpu",
                 "--batch-size", "8", "--weight-decay", "0.01", "--schedule", "constant",
                 "--no-augment", "--out", str(out), *TINY_AE]) == 0
    train = read_model_meta(out)["train"]
    assert train["weight_decay"] == 0.01 and train["schedule"] == "constant"
    assert train["augment"] is False and train["lr"] == 1e-3  # untouched: the config's default


def test_a_bad_option_value_is_one_line_and_status_2(digit_folder: Path, tmp_path: Path,
                                                    capsys) -> None:
    capsys.readouterr()
    assert main(["train", str(digit_folder), "--lr", "50", "--out",
                 str(tmp_path / "m.aemodel")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aestudio: error: lr must be") and "\n" not in err
    assert not (tmp_path / "m.aemodel").exists()
    assert main(["train", str(digit_folder), "--option", "width={", "--out",
                 str(tmp_path / "m.aemodel")]) == 2
    err = capsys.readouterr().err.strip()
    assert "width={" in err and "\n" not in err


def test_a_read_only_disk_is_one_line_without_traceback(tiny_model: Path, tmp_path: Path,
                                                       monkeypatch, capsys) -> None:
    import aestudio.core.io.write as write_module

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(write_module, "write_image", read_only)
    capsys.readouterr()
    out = tmp_path / "locked" / "x.png"
    assert main(["decode", str(tiny_model), "--z", "0,0", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"aestudio: error: {out}: the disk is read-only"


def test_a_bug_shows_its_traceback_and_status_1(tiny_model: Path, tmp_path: Path,
                                               monkeypatch, capsys) -> None:
    import aestudio.core.io.write as write_module

    def broken(*args, **kwargs):
        raise RuntimeError("something impossible")

    monkeypatch.setattr(write_module, "write_image", broken)
    capsys.readouterr()
    assert main(["decode", str(tiny_model), "--z", "0,0", "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: something impossible" in err
    assert err.strip().splitlines()[-1].startswith("aestudio: error: RuntimeError")
    assert "report" in err.strip().splitlines()[-1]


def test_bad_latent_arguments_are_option_errors(tiny_model: Path, tmp_path: Path,
                                                capsys) -> None:
    capsys.readouterr()
    assert main(["decode", str(tiny_model), "--z", "1,2,3", "--out",
                 str(tmp_path / "x.png")]) == 2
    assert "\n" not in capsys.readouterr().err.strip()
    assert main(["reconstruct", str(tiny_model), str(tmp_path / "missing"), "--out",
                 str(tmp_path / "rec")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only() -> None:
    piped = io.StringIO()
    bar = ProgressBar(stream=piped)
    bar.update(0.5, "half")
    bar.close()
    assert piped.getvalue() == ""
    terminal = _Terminal()
    bar = ProgressBar(stream=terminal)
    bar.update(0.25, "quarter")
    bar.update(1.0, "done")
    bar.close()
    assert "100.0%" in terminal.getvalue() and "done" in terminal.getvalue()
    silent = _Terminal()
    ProgressBar(stream=silent, enabled=False).update(0.5)
    assert silent.getvalue() == ""


def test_help_imports_neither_torch_nor_qt() -> None:
    import subprocess
    import sys

    code = ("import sys; from aestudio.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'PySide6', 'numpy', 'tqdm') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_encode_never_writes_over_its_model_and_leaves_it_unchanged(tiny_model, digit_folder,
                                                                    capsys):
    before = tiny_model.read_bytes()
    assert main(["encode", str(tiny_model), str(digit_folder), "--out",
                 str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is an input" in err[0]
    assert tiny_model.read_bytes() == before


def test_encode_refuses_an_output_inside_the_data_folder(tiny_model, digit_folder, capsys):
    assert main(["encode", str(tiny_model), str(digit_folder), "--out",
                 str(digit_folder / "codes.csv")]) == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert not (digit_folder / "codes.csv").exists()


def test_encode_on_a_full_disk_keeps_the_old_codes(tiny_model, digit_folder, tmp_path,
                                                   monkeypatch, capsys):
    out = tmp_path / "codes.csv"
    out.write_text("old codes\n")
    from aestudio.core.io import atomic

    real_replace = atomic.os.replace

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    assert main(["encode", str(tiny_model), str(digit_folder), "--out", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main(["encode", str(tiny_model), str(digit_folder), "--out", str(out),
                 "--overwrite"]) == 2
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert "the disk is full" in capsys.readouterr().err
    assert out.read_text() == "old codes\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".codes")) == []


def test_train_checks_its_output_before_reading_any_image(digit_folder, tmp_path, monkeypatch,
                                                          capsys):
    from aestudio.core.training import setup

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("training started although the output cannot be written")

    monkeypatch.setattr(setup, "prepare_run", must_not_run)
    folder_as_out = tmp_path / "a-folder.aemodel"
    folder_as_out.mkdir()
    assert main(["train", str(digit_folder), "--out", str(folder_as_out), "--overwrite",
                 "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "it is a folder" in err[0]


def test_denoise_refuses_bad_suffix_tile_and_an_autoencoder(tiny_model, digit_folder, tmp_path,
                                                            capsys):
    from aestudio.core.denoise.batch import denoise_files
    from aestudio.core.errors import ConfigError
    from aestudio.core.models.modelfile import load_model_file

    image = next(digit_folder.rglob("*.png"))
    assert main(["denoise", str(tiny_model), str(image), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a denoiser" in err[0]
    loaded = load_model_file(tiny_model)
    for bad in ({"suffix": "/../../x"}, {"suffix": ".."}, {"tile": 0}):
        with pytest.raises(ConfigError):
            denoise_files(loaded, [image], tmp_path / "out", **bad)
    assert not any((tmp_path / "out").rglob("*.png"))


def test_stale_temporaries_of_a_killed_run_are_cleared(tmp_path):
    from aestudio.core.io.outputs import check_output_file

    stale = tmp_path / ".codes.csv.k1ll3d.aestudio-tmp"
    stale.write_bytes(b"half")
    long_ago = 1_000_000_000
    os.utime(stale, (long_ago, long_ago))
    check_output_file(tmp_path / "codes.csv")
    assert not stale.exists()


def test_map_size_is_range_checked(tiny_model, digit_folder, tmp_path, capsys):
    assert main(["map", str(tiny_model), str(digit_folder), "--out", str(tmp_path / "m.png"),
                 "--size", "100000"]) == 2
    assert "--size must be from 400 to 8000" in capsys.readouterr().err


def test_decode_never_replaces_an_image_without_overwrite(tiny_model, tmp_path, capsys):
    out = tmp_path / "mine.png"
    out.write_bytes(b"a photo of mine")
    assert main(["decode", str(tiny_model), "--z", "0,0", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (f"aestudio: error: {out} exists; "
                                               "pass --overwrite to replace it")
    assert out.read_bytes() == b"a photo of mine"
    assert main(["decode", str(tiny_model), "--z", "0,0", "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_reconstruct_never_writes_two_inputs_to_one_file(tiny_model, digit_folder, tmp_path):
    first, second = digit_folder / "0" / "0.png", digit_folder / "1" / "0.png"
    out = tmp_path / "rec"
    assert main(["reconstruct", str(tiny_model), str(first), str(second), "--out",
                 str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["0-1.png", "0.png"]
