"""Weight snapshots for the live latent map: when they come, what they hold, who gets them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from aestudio.core import events as ev
from aestudio.core.config import TrainConfig, from_dict, to_dict
from aestudio.core.data.training_data import from_arrays
from aestudio.core.models import create_model
from aestudio.core.training.trainer import TrainingJob, fit


def tiny_images(n: int = 40, size: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, 1, size, size), dtype=np.uint8)
    images[: n // 2, :, 2:6, 2:6] = 230
    images[n // 2:, :, :, 7:9] = 230
    return images


def train(model: str, options: dict, **settings: object) -> tuple[list[object], object]:
    seen: list[object] = []
    config = TrainConfig(**{"epochs": 2, "batch_size": 8, "lr": 3e-3, "seed": 1,
                            "device": "cpu", "sample_seconds": 1e6, **settings})
    job = TrainingJob(model=model, model_options=options, train=config)
    data = from_arrays(tiny_images(), val_fraction=0.2)
    return seen, fit(job, data, on_event=seen.append)


CONV = {"latent_dim": 2, "width": 4, "depth": 1, "hidden": 16}


def test_snapshots_arrive_and_rebuild_the_trained_model() -> None:
    seen, result = train("conv-ae", CONV, snapshot_seconds=1e-9)
    snaps = [e for e in seen if isinstance(e, ev.Snapshot)]
    # One per step (the interval is below a step's time) and one more at the end.
    assert len(snaps) == result.step + 1
    assert [s.step for s in snaps[:3]] == [1, 2, 3] and snaps[-1].step == result.step
    finished = seen.index(next(e for e in seen if isinstance(e, ev.Finished)))
    assert seen[finished - 1] is snaps[-1]  # just before Finished
    for tensor in snaps[-1].state.values():
        assert tensor.device.type == "cpu" and tensor.is_contiguous()
        assert tensor.dtype == torch.float32 or not tensor.is_floating_point()
    # The copies are the event's own: the early one differs from the final weights.
    first, last = snaps[0].state, snaps[-1].state
    assert any(not torch.equal(first[k], last[k]) for k in first)

    fresh = create_model("conv-ae", channels=1, image_size=12, **CONV)
    fresh.load_state_dict(snaps[-1].state)
    fresh.eval()
    x = torch.from_numpy(tiny_images()[:6].astype(np.float32) / 255)
    with torch.no_grad():
        expected = result.model.float()(x.contiguous(memory_format=torch.channels_last))
        np.testing.assert_allclose(fresh(x).numpy(), expected.numpy(), atol=1e-5)
        np.testing.assert_allclose(fresh.encode(x).numpy(), result.model.encode(x).numpy(),
                                   atol=1e-5)


def test_snapshots_of_an_mlp_autoencoder() -> None:
    seen, result = train("mlp-ae", {"latent_dim": 2, "hidden": (16,)}, snapshot_seconds=1e-9)
    snaps = [e for e in seen if isinstance(e, ev.Snapshot)]
    assert snaps and snaps[-1].step == result.step
    fresh = create_model("mlp-ae", channels=1, image_size=12, latent_dim=2, hidden=(16,))
    fresh.load_state_dict(snaps[-1].state)
    x = torch.from_numpy(tiny_images()[:4].astype(np.float32) / 255)
    with torch.no_grad():
        np.testing.assert_allclose(fresh.eval()(x).numpy(), result.model(x).numpy(),
                                   atol=1e-5)


def test_no_snapshots_by_default_nor_for_a_denoiser() -> None:
    seen, _ = train("conv-ae", CONV)
    assert not any(isinstance(e, ev.Snapshot) for e in seen)
    seen, _ = train("denoiser", {"width": 8, "depth": 1}, snapshot_seconds=1e-9,
                    task="denoise", noise="gaussian:25", epochs=1)
    assert not any(isinstance(e, ev.Snapshot) for e in seen)


def test_config_without_the_option_still_loads(tmp_path: Path) -> None:
    stored = to_dict(TrainConfig())
    del stored["snapshot_seconds"]  # as written before the option existed
    assert from_dict(TrainConfig, stored).snapshot_seconds == 0.0
    assert from_dict(TrainConfig, {"snapshot_seconds": 2}).snapshot_seconds == 2.0
    try:
        TrainConfig(snapshot_seconds=-1.0)
    except ValueError as exc:
        assert "snapshot_seconds" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a negative interval was accepted")
