"""Model files round-trip exactly; anything else is refused with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from aestudio.core.models import create_model
from aestudio.core.models.modelfile import (
    ModelFileError,
    load_model_file,
    read_model_meta,
    save_model_file,
)


def _trained_pair(tmp_path: Path):
    torch.manual_seed(0)
    model = create_model("vae", image_size=16, latent_dim=4, beta=2.0)
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    x = torch.rand(8, 1, 16, 16)
    for _ in range(2):
        loss, _ = model.training_loss(x, x, torch.Generator().manual_seed(1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = save_model_file(tmp_path / "m.aemodel", model, optimizer=optimizer,
                           data={"labels": ["a", "b"]}, training_state={"step": 2})
    return model, optimizer, path


def test_round_trip_weights_config_and_optimizer(tmp_path: Path) -> None:
    model, optimizer, path = _trained_pair(tmp_path)
    loaded = load_model_file(path, with_optimizer=True)
    assert loaded.name == "vae"
    assert loaded.model.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)
    restored = torch.optim.AdamW(loaded.model.parameters(), 1e-3)
    restored.load_state_dict(loaded.optimizer_state)
    a, b = optimizer.state_dict()["state"], restored.state_dict()["state"]
    assert a.keys() == b.keys()
    for index in a:
        assert torch.equal(a[index]["exp_avg_sq"], b[index]["exp_avg_sq"])
    meta = read_model_meta(path)
    assert meta["data"]["labels"] == ["a", "b"] and meta["training_state"]["step"] == 2
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temporary file


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"\x00" * 16])
def test_garbage_is_refused_with_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.aemodel"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    assert "\n" not in str(info.value) and "bad.aemodel" in str(info.value)


def test_foreign_safetensors_and_mismatched_weights_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.aemodel"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ModelFileError, match="no aestudio description"):
        load_model_file(foreign)
    _, _, path = _trained_pair(tmp_path)
    meta = read_model_meta(path)
    meta["model_config"]["latent_dim"] = 7  # weights no longer fit
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    tampered = tmp_path / "tampered.aemodel"
    save_file(tensors, str(tampered), metadata={"aestudio": json.dumps(meta)})
    with pytest.raises(ModelFileError, match="do not fit"):
        load_model_file(tampered)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such model file"):
        read_model_meta(tmp_path / "nope.aemodel")


@pytest.mark.parametrize("optimizer", ["nonsense", {"scalars": 5}, {"param_groups": None}])
def test_a_forged_optimizer_entry_is_a_clear_model_file_error(tmp_path: Path, optimizer) -> None:
    from safetensors import safe_open

    _, _, path = _trained_pair(tmp_path)
    with safe_open(str(path), "pt") as f:
        metadata = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    description = json.loads(metadata["aestudio"])
    description["optimizer"] = optimizer
    metadata["aestudio"] = json.dumps(description)
    forged = tmp_path / "forged.aemodel"
    save_file(tensors, str(forged), metadata=metadata)
    assert load_model_file(forged).name == "vae"  # the weights alone still load
    with pytest.raises(ModelFileError, match="optimizer state"):
        load_model_file(forged, with_optimizer=True)
