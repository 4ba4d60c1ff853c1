"""ONNX export of denoisers: any image size, the same pixels as PyTorch, nothing half-written."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.core.errors import ConfigError, UserError
from aestudio.core.models import create_model
from aestudio.core.models.denoiser import graph_capture, pad_to_multiple, pad_to_multiple_in_graph
from aestudio.core.models.onnx_export import INPUT_NAME, MIN_OPSET, export_onnx

# A colour U-Net by planes, and a gray DnCNN on 2x2 blocks of sub-images (spacing 3
# denoises every 2nd pixel): together every padding step of the forward pass.
CONFIGS = {
    "unet-planes": {"channels": 3, "planes": True, "width": 8, "depth": 2},
    "dncnn-gray": {"channels": 1, "arch": "dncnn", "width": 8, "depth": 3, "unshuffle": 2,
                   "spacing": 3},
}
# Sides that are no multiple of the grid, a second batch size, and images smaller than the
# padding (edge repeated instead of mirrored).
SHAPES = [(1, 37, 53), (2, 20, 9), (1, 3, 5)]


def _denoiser(**options) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model("denoiser", **options)
    with torch.no_grad():  # away from the near-identity start, so that a wrong graph shows
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


@pytest.mark.parametrize("multiple", [1, 2, 4, 16])
@pytest.mark.parametrize("size", [(1, 1), (3, 40), (5, 7), (16, 16), (37, 53)])
def test_graph_padding_gives_the_pixels_of_eager_padding(multiple: int, size: tuple) -> None:
    x = torch.rand(2, 3, *size)
    assert torch.equal(pad_to_multiple_in_graph(x, multiple), pad_to_multiple(x, multiple))


def test_the_model_under_graph_capture_gives_the_same_output() -> None:
    model = _denoiser(**CONFIGS["unet-planes"])
    x = torch.rand(1, 3, 37, 53)
    with torch.no_grad():
        eager = model(x)
        with graph_capture():
            captured = model(x)
    torch.testing.assert_close(captured, eager, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_exported_graph_denoises_any_size_as_torch_does(name: str, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = _denoiser(**CONFIGS[name]).train()
    path = export_onnx(model, tmp_path / "out" / "model.onnx")
    assert model.training  # the caller's model is left as it was
    model.eval()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["aestudio.architecture"] == "denoiser"
    for n, h, w in SHAPES:
        x = torch.rand(n, model.channels, h, w, generator=torch.Generator().manual_seed(h))
        with torch.no_grad():
            expected = model(x).numpy()
        (got,) = session.run(None, {INPUT_NAME: x.numpy()})
        assert got.shape == expected.shape and got.dtype == np.float32
        assert np.abs(expected - x.numpy()).max() > 1e-2  # the network does change the image
        assert np.abs(got - expected).max() < 1e-4, (n, h, w)
    assert [p.name for p in path.parent.iterdir()] == ["model.onnx"]  # one file, no temporaries


def test_an_autoencoder_is_refused(tmp_path: Path) -> None:
    model = create_model("conv-ae", image_size=16, latent_dim=2, width=4, hidden=16, depth=1)
    with pytest.raises(UserError, match="autoencoder for 16 x 16 images; only denoiser"):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_a_missing_exporter_package_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import onnxscript now fails
    with pytest.raises(UserError, match=r"needs the onnx and onnxscript packages \(pip install"):
        export_onnx(_denoiser(channels=1, width=8, depth=1), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_an_opset_out_of_range_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("onnxscript")
    with pytest.raises(ConfigError, match=f"opset must be from {MIN_OPSET} to"):
        export_onnx(_denoiser(channels=1, width=8, depth=1), tmp_path / "m.onnx", opset=7)


def test_a_failed_export_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                              monkeypatch) -> None:
    pytest.importorskip("onnxscript")
    target = tmp_path / "m.onnx"
    target.write_bytes(b"the previous export")

    def broken_export(*args, **kwargs):
        raise RuntimeError("the exporter failed")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    with pytest.raises(RuntimeError, match="the exporter failed"):
        export_onnx(_denoiser(channels=1, width=8, depth=1), target)
    assert target.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_an_unwritable_path_fails_before_the_export(tmp_path: Path) -> None:
    pytest.importorskip("onnxscript")
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(NotADirectoryError):
        export_onnx(_denoiser(channels=1, width=8, depth=1), tmp_path / "a-file" / "m.onnx")
