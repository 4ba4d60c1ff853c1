"""Configs refuse unknown keys; every registered model trains a step and keeps its shapes."""

from __future__ import annotations

import pytest
import torch

from aestudio.core.config import ConfigError, DataConfig, TrainConfig, from_dict, to_dict
from aestudio.core.models import create_model, get_entry, list_models, make_config


def test_from_dict_round_trip_and_unknown_keys() -> None:
    train = TrainConfig(task="denoise", epochs=3, max_minutes=1.5)
    assert from_dict(TrainConfig, to_dict(train)) == train
    with pytest.raises(ConfigError, match="unknown option"):
        from_dict(TrainConfig, {"epoch": 3})
    with pytest.raises(ConfigError, match="task"):
        TrainConfig(task="paint")
    with pytest.raises(ConfigError, match="must be int"):
        from_dict(DataConfig, {"size": "big"})


def test_registry_lists_models_in_order() -> None:
    names = [e.name for e in list_models()]
    assert names == ["conv-ae", "mlp-ae", "vae", "denoiser"]  # the default first
    assert [e.name for e in list_models("denoiser")] == ["denoiser"]
    with pytest.raises(ConfigError, match="unknown model"):
        get_entry("gan")
    with pytest.raises(ConfigError, match="unknown option"):
        make_config("conv-ae", {"latent": 2})


@pytest.mark.parametrize("name", ["mlp-ae", "conv-ae", "vae"])
@pytest.mark.parametrize("channels,size", [(1, 16), (3, 20)])
def test_autoencoders_shapes_and_a_step(name: str, channels: int, size: int) -> None:
    torch.manual_seed(0)
    model = create_model(name, channels=channels, image_size=size, latent_dim=3)
    x = torch.rand(5, channels, size, size)
    z = model.encode(x)
    assert z.shape == (5, 3)
    out = model.decode(z)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    loss, _ = model.training_loss(x, x, torch.Generator().manual_seed(0))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)


def test_vae_encode_is_the_posterior_mean() -> None:
    model = create_model("vae", image_size=16, latent_dim=2).eval()
    x = torch.rand(4, 1, 16, 16)
    mu, _ = model.posterior(x)
    assert torch.equal(model.encode(x), mu)
    assert torch.equal(model.encode(x), model.encode(x))  # deterministic


def test_sparsity_adds_a_penalty() -> None:
    torch.manual_seed(0)
    plain = create_model("conv-ae", image_size=16, neighbours=0.0)
    sparse = create_model("conv-ae", image_size=16, sparsity=1.0, neighbours=0.0)
    sparse.load_state_dict(plain.state_dict())
    x = torch.rand(3, 1, 16, 16)
    assert sparse.training_loss(x, x)[0] > plain.training_loss(x, x)[0]


@pytest.mark.parametrize("arch", ["unet", "dncnn"])
@pytest.mark.parametrize("shape", [(1, 1, 37, 53), (2, 3, 16, 9), (1, 1, 5, 130)])
def test_denoiser_keeps_any_size(arch: str, shape: tuple[int, ...]) -> None:
    model = create_model("denoiser", channels=shape[1], arch=arch, width=8, depth=3)
    assert model(torch.rand(shape)).shape == shape


def test_denoiser_masked_loss_counts_masked_pixels_only() -> None:
    model = create_model("denoiser", width=8, depth=1)
    x = torch.rand(2, 1, 16, 16)
    target = torch.rand(2, 1, 16, 16)
    mask = torch.zeros_like(x)
    mask[..., 3, 4] = 1
    full, _ = model.training_loss(x, target)
    masked, _ = model.training_loss(x, target, mask=mask)
    with torch.no_grad():
        expected = (model(x) - target)[..., 3, 4].square().mean()
    assert torch.allclose(masked, expected, atol=1e-6)
    assert not torch.allclose(masked, full)


@pytest.mark.parametrize(("name", "options", "words"), [
    ("conv-ae", {"width": 1_000_000}, "width must be between"),
    ("mlp-ae", {"hidden": [100_000_000]}, "hidden must be between"),
    ("vae", {"latent_dim": 10**9}, "latent_dim must be between"),
])
def test_option_ranges_are_checked_before_anything_is_allocated(name, options, words):
    from aestudio.core.errors import ConfigError
    from aestudio.core.models import make_config

    with pytest.raises(ConfigError, match=words):
        make_config(name, options)


def test_nan_and_infinity_are_refused_by_every_range():
    from aestudio.core.config import TrainConfig
    from aestudio.core.errors import ConfigError

    for bad in ({"lr": float("nan")}, {"max_minutes": float("inf")}, {"lr": 0.0}):
        with pytest.raises(ConfigError):
            TrainConfig(**bad)
