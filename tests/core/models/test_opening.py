"""One way to open a model file on a device."""

from __future__ import annotations

import pytest
import torch

from aestudio.core.errors import ModelFileError
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file
from aestudio.core.models.opening import open_model


def test_open_model_on_the_cpu_names_the_device(tmp_path):
    torch.manual_seed(0)
    model = create_model("conv-ae", image_size=16, latent_dim=2, width=4, hidden=16, depth=1)
    path = save_model_file(tmp_path / "m.aemodel", model.eval())
    loaded, device = open_model(path, "cpu")
    assert loaded.name == "conv-ae" and device.startswith("CPU")
    assert next(loaded.model.parameters()).device.type == "cpu"


def test_a_file_that_is_no_model_is_refused(tmp_path):
    bad = tmp_path / "x.aemodel"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        open_model(bad)
