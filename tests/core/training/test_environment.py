"""The engine as a studio finds it: models, devices, noise kinds."""

from __future__ import annotations

import torch

from aestudio.core.training.environment import describe_environment, warm_up_engine


def test_environment_description() -> None:
    info = describe_environment()
    names = [m.name for m in info.models]
    assert {"mlp-ae", "conv-ae", "vae", "denoiser"} <= set(names)
    assert info.devices["cpu"] and info.devices["auto"]
    assert info.devices["cuda"] == torch.cuda.is_available()
    assert "gaussian" in info.noise_kinds and "gaussian" in info.noise_syntax
    assert info.auto_device
    warm_up_engine()  # builds an optimizer without error
