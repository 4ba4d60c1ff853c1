"""Memory needs known before allocating: counted on the meta device, refused in one line."""

from __future__ import annotations

import pytest
import torch

import aestudio.core.models.memory as memory
from aestudio.core.errors import ConfigError, ModelFileError
from aestudio.core.models import create_model, get_entry, make_config
from aestudio.core.models.modelfile import load_model_file, save_model_file


def test_meta_count_matches_the_real_model() -> None:
    config = make_config("conv-ae", {"channels": 1, "image_size": 16, "width": 4, "hidden": 16})
    weights, activations = memory.model_memory(get_entry("conv-ae").cls, config,
                                               image_shape=(1, 16, 16))
    real = create_model("conv-ae", config)
    assert weights == sum(p.numel() * 4 for p in real.parameters()) + sum(
        b.numel() * b.element_size() for b in real.buffers())
    assert activations > 16 * 16 * 4  # at least the reconstruction itself


def test_a_model_too_big_for_the_machine_is_refused_before_allocating(monkeypatch,
                                                                      tmp_path) -> None:
    small = create_model("conv-ae", channels=1, image_size=16, width=4, hidden=16, depth=1)
    path = save_model_file(tmp_path / "m.aemodel", small)
    monkeypatch.setattr(memory, "machine_memory_bytes", lambda: 10_000)
    with pytest.raises(ConfigError, match=r"would need about .* GB of memory .* free"):
        create_model("mlp-ae", image_size=256, hidden=(8192, 8192))
    with pytest.raises(ModelFileError, match="m.aemodel: cannot rebuild the model"):
        load_model_file(path)


def test_training_counts_the_batch(monkeypatch) -> None:
    entry = get_entry("conv-ae")
    config = make_config("conv-ae", {"channels": 3, "image_size": 64})
    weights, activations = memory.model_memory(entry.cls, config, image_shape=(3, 64, 64))
    enough = 12 * weights + 3 * activations * 8 + 1
    monkeypatch.setattr(memory, "machine_memory_bytes", lambda: enough)
    memory.check_training_memory("conv-ae", entry.cls, config, batch_size=8,
                                 image_shape=(3, 64, 64))
    with pytest.raises(ConfigError, match="batches of 4096"):
        memory.check_training_memory("conv-ae", entry.cls, config, batch_size=4096,
                                     image_shape=(3, 64, 64))


def test_the_machine_reports_its_free_memory() -> None:
    free = memory.machine_memory_bytes()
    assert free is None or free > 100_000_000
    assert torch.empty(0).device.type == "cpu"  # meta builds leave the default device alone
