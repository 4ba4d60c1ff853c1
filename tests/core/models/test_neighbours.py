"""The neighbour-embedding term: its graph, its loss, and the pairs the trainer feeds it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aestudio.core import events as ev
from aestudio.core.config import TrainConfig
from aestudio.core.data.training_data import from_arrays
from aestudio.core.models import create_model
from aestudio.core.models.base import Autoencoder
from aestudio.core.models.neighbours import neighbour_graph, neighbour_loss, pair_positions
from aestudio.core.training.trainer import TrainingError, TrainingJob, fit


def test_graph_matches_brute_force_and_leaves_out_self() -> None:
    rng = np.random.default_rng(0)
    points = torch.from_numpy(rng.normal(size=(300, 8)).astype(np.float32))
    graph = neighbour_graph(points, k=5)
    dist = torch.cdist(points, points)
    dist.fill_diagonal_(float("inf"))
    expected = dist.topk(5, dim=1, largest=False).indices
    assert graph.shape == (300, 5)
    assert (graph != torch.arange(300)[:, None]).all()
    assert torch.equal(torch.sort(graph, dim=1).values, torch.sort(expected, dim=1).values)


def test_graph_in_principal_components_finds_the_same_clusters() -> None:
    # 2 clusters in 900 dimensions: more than the 50 components kept.
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 900)) * 4
    labels = np.repeat([0, 1], 100)
    points = torch.from_numpy((centres[labels] + rng.normal(size=(200, 900))).astype(np.float32))
    done: list[int] = []
    graph = neighbour_graph(points, k=10, progress=done.append).numpy()
    assert (labels[graph] == labels[:, None]).all()
    assert done[-1] == 200


def test_graph_needs_two_rows_and_caps_k() -> None:
    with pytest.raises(ValueError, match="two images"):
        neighbour_graph(torch.zeros(1, 4))
    assert neighbour_graph(torch.eye(3), k=15).shape == (3, 2)


def test_pairs_are_anchors_then_graph_neighbours() -> None:
    graph = torch.tensor([[1, 2], [0, 2], [0, 1], [2, 1]])
    anchors = torch.tensor([3, 0])
    pairs = pair_positions(anchors, graph, torch.Generator().manual_seed(0))
    assert pairs[:2].tolist() == [3, 0]
    assert pairs[2].item() in (2, 1) and pairs[3].item() in (1, 2)


def test_loss_is_lower_when_pairs_are_close_and_others_far() -> None:
    anchors = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    near = anchors + 0.1
    far = anchors.roll(1, dims=0) + 0.1  # each anchor's partner sits by another anchor
    assert neighbour_loss(torch.cat([anchors, near])) < neighbour_loss(torch.cat([anchors, far]))
    # Two pairs far apart: gradient descent moves each partner towards its anchor.
    codes = torch.tensor([[0.0, 0.0], [30.0, 30.0], [3.0, 0.0], [30.0, 33.0]],
                         requires_grad=True)
    neighbour_loss(codes).backward()
    assert -codes.grad[2, 0] < 0 and -codes.grad[3, 1] < 0
    assert torch.isfinite(neighbour_loss(torch.zeros(8, 2)))  # coincident codes: no NaN


def two_kinds(n: int = 48, size: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 60, (n, 1, size, size), dtype=np.uint8)
    kind = np.arange(n) % 2
    images[kind == 0, :, 2:6, 2:6] = 230
    images[kind == 1, :, :, 7:9] = 230
    return images, kind


def test_trainer_feeds_neighbour_pairs_and_validates_on_reconstruction(monkeypatch) -> None:
    images, _ = two_kinds()
    batches: list[tuple[torch.Tensor, set[str]]] = []
    plain_loss = Autoencoder.training_loss

    def spy(self, inputs, target, generator=None, mask=None):
        loss, parts = plain_loss(self, inputs, target, generator, mask)
        batches.append((inputs.detach().float().clone(), set(parts), self.training))
        return loss, parts

    monkeypatch.setattr(Autoencoder, "training_loss", spy)
    seen: list[object] = []
    config = TrainConfig(epochs=3, batch_size=8, lr=3e-3, seed=1, device="cpu",
                         sample_seconds=1e6)
    job = TrainingJob(model="conv-ae", train=config, model_options={
        "latent_dim": 2, "width": 4, "depth": 1, "hidden": 16, "neighbours": 0.5})
    result = fit(job, from_arrays(images, val_fraction=0.25), on_event=seen.append)
    assert result.reason == "completed"
    assert any(isinstance(e, ev.Loading) and e.stage == "neighbours" for e in seen)
    training = [(x, parts) for x, parts, is_training in batches if is_training]
    checks = [x for x, _, is_training in batches if not is_training]
    assert training and checks
    assert all("neighbours" in parts for _, parts in training)
    assert all("neighbours" not in parts for _, parts, t in batches if not t)
    # Each anchor's partner is of the same kind (the two kinds differ in where they are bright).
    for x, _ in training:
        kind = (x[:, 0, 2:6, 2:6].mean(dim=(1, 2)) > 0.8).long()
        half = len(x) // 2
        assert torch.equal(kind[:half], kind[half:])


def test_old_model_files_keep_the_defaults_they_were_written_under(tmp_path) -> None:
    import json

    from safetensors.torch import save_file

    from aestudio.core.models.modelfile import load_model_file, save_model_file
    from aestudio.core.models.summary import META_KEY, read_model_meta

    # A schema-1 file written before conv-ae had the neighbour term, width 8 and hidden 512.
    old = create_model("conv-ae", image_size=12, width=32, depth=1, hidden=256, neighbours=0.0)
    path = save_model_file(tmp_path / "old.aemodel", old)
    meta = read_model_meta(path)
    meta["schema_version"] = 1
    for key in ("width", "hidden", "neighbours"):
        meta["model_config"].pop(key)
    tensors = {f"model.{k}": v.contiguous() for k, v in old.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt", META_KEY: json.dumps(meta)})
    model = load_model_file(path).model
    assert (model.config.width, model.config.hidden, model.neighbour_weight) == (32, 256, 0.0)
    model.train()
    _, parts = model.training_loss(torch.rand(4, 1, 12, 12), torch.rand(4, 1, 12, 12))
    assert "neighbours" not in parts
    # New files have the neighbour term by default.
    assert create_model("conv-ae", image_size=12).neighbour_weight == 2.0


def test_neighbour_term_with_one_training_image_is_refused() -> None:
    images, _ = two_kinds(n=2)
    config = TrainConfig(epochs=1, batch_size=2, device="cpu", sample_seconds=1e6)
    job = TrainingJob(model="conv-ae", train=config, model_options={
        "latent_dim": 2, "width": 4, "depth": 1, "hidden": 16, "neighbours": 1.0})
    with pytest.raises(TrainingError, match="at least two training images"):
        fit(job, from_arrays(images, val_fraction=0.5))


def test_the_vae_takes_the_neighbour_term_on_its_posterior_means() -> None:
    torch.manual_seed(0)
    plain = create_model("vae", image_size=12, width=4, depth=1, hidden=16, neighbours=0.0)
    paired = create_model("vae", image_size=12, width=4, depth=1, hidden=16, neighbours=2.0)
    x = torch.rand(8, 1, 12, 12)
    generator = torch.Generator().manual_seed(0)
    _, parts = paired.train().training_loss(x, x, generator)
    assert "neighbours" in parts and torch.isfinite(parts["neighbours"])
    _, parts = plain.train().training_loss(x, x, torch.Generator().manual_seed(0))
    assert "neighbours" not in parts
    _, parts = paired.eval().training_loss(x, x, torch.Generator().manual_seed(0))
    assert "neighbours" not in parts  # validation measures the reconstruction alone
