"""``aestudio export MODEL --onnx FILE`` end to end, and its one-line refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.cli import main
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import load_model_file, save_model_file


@pytest.fixture
def denoiser_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("denoiser", channels=3, width=8, depth=1)
    return save_model_file(tmp_path / "d.aemodel", model.eval())


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("aestudio: error: ") and "\n" not in err, err
    return err


def test_export_writes_an_onnx_file_that_runs(denoiser_file: Path, tmp_path: Path,
                                             capsys) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    out = tmp_path / "out.onnx"
    capsys.readouterr()
    assert main(["export", str(denoiser_file), "--onnx", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 3, 37, 53)
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        expected = load_model_file(denoiser_file).model(x).numpy()
    assert got.shape == (1, 3, 37, 53) and np.abs(got - expected).max() < 1e-4

    # An existing file is kept unless --overwrite is given.
    before = out.read_bytes()
    assert main(["export", str(denoiser_file), "--onnx", str(out)]) == 2
    assert "exists; pass --overwrite" in _one_line_error(capsys)
    assert out.read_bytes() == before


def test_an_autoencoder_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    model = create_model("conv-ae", image_size=16, latent_dim=2, width=4, hidden=16, depth=1)
    path = save_model_file(tmp_path / "ae.aemodel", model.eval())
    capsys.readouterr()
    assert main(["export", str(path), "--onnx", str(tmp_path / "ae.onnx")]) == 2
    assert "only denoiser models can be exported to ONNX" in _one_line_error(capsys)
    assert not (tmp_path / "ae.onnx").exists()


def test_a_missing_onnx_package_is_one_line(denoiser_file: Path, tmp_path: Path, capsys,
                                            monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now fails
    capsys.readouterr()
    assert main(["export", str(denoiser_file), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "pip install onnx onnxscript" in _one_line_error(capsys)
    assert not (tmp_path / "m.onnx").exists()


def test_an_unwritable_path_is_one_line(denoiser_file: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    target = tmp_path / "a-file" / "m.onnx"
    capsys.readouterr()
    assert main(["export", str(denoiser_file), "--onnx", str(target)]) == 2
    assert "a file stands where a folder is needed" in _one_line_error(capsys)


def test_a_bad_opset_is_one_line(denoiser_file: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxscript")
    capsys.readouterr()
    assert main(["export", str(denoiser_file), "--onnx", str(tmp_path / "m.onnx"),
                 "--opset", "3"]) == 2
    assert "opset must be from 18 to" in _one_line_error(capsys)
