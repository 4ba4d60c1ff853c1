"""Training speed on the CPU: the app's trainer against the loops a user would write.

- ``train_speedup_vs_dataloader``: images/s of the app's trainer (``core.training.trainer.fit``, the
  code path the GUI worker runs) over torchvision ``ImageFolder`` + ``DataLoader`` with
  workers = cores, the same model, batch size and optimizer, on the same PNG folder.
- ``train_ratio_vs_bare_loop``: the app's trainer over a bare loop on tensors already in
  memory with the same number formats (the ceiling: what the app's own overhead costs).
- ``train_speedup_vs_float32_bare_loop``: the app over that bare loop in plain float32.
- ``train_flops_fraction``: achieved FLOP/s of a training step over a large matmul's FLOP/s
  in the number format the trainer computes in.

    python benchmarks/bench_training.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from statistics import median

import torch

from benchmarks.common import Figure, cores, mnist_folder, print_figures

MODEL = "conv-ae"
OPTIONS = {"latent_dim": 2}
BATCH = 128
LR = 1e-3


def make_model(seed: int = 0):
    from aestudio.core.models import create_model

    torch.manual_seed(seed)
    return create_model(MODEL, channels=1, image_size=28, **OPTIONS)


def dataloader_loop(folder, steps: int) -> float:
    """A standard PyTorch loop: ImageFolder + DataLoader(workers = cores). Returns images/s."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    dataset = datasets.ImageFolder(
        str(folder), transform=transforms.Compose([transforms.Grayscale(), transforms.ToTensor()]))
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=cores(),
                        drop_last=True, persistent_workers=False)
    model = make_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    done, images = 0, 0
    start = time.perf_counter()
    while done < steps:
        for x, _ in loader:
            loss, _ = model.training_loss(x, x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            done += 1
            images += len(x)
            if done >= steps:
                break
    return images / (time.perf_counter() - start)


def bare_loop(data, steps: int, *, fast: bool) -> float:
    """A loop over a float tensor already in memory. Returns images/s.

    ``fast=False`` is the float32 loop a user would write; ``fast=True`` uses the number
    formats the app's trainer picks on this machine (channels-last weights, mixed precision
    where native): the ceiling for the app's own overhead.
    """
    from aestudio.core.runtime.precision import autocast, to_channels_last

    x_all = data.to_float(data.images[torch.as_tensor(data.train_index)])
    model = make_model()
    if fast:
        to_channels_last(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(x_all), generator=generator)
    start = time.perf_counter()
    for step in range(steps):
        index = order[(step * BATCH) % (len(x_all) - BATCH):][:BATCH]
        x = x_all[index]
        with autocast("cpu", enabled=fast):
            loss, _ = model.training_loss(x, x)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps * BATCH / (time.perf_counter() - start)


def app_trainer(data, steps: int) -> float:
    """The app's trainer on the decoded cache, timed from its first to its last step."""
    from aestudio.core import events as ev
    from aestudio.core.config import TrainConfig
    from aestudio.core.training.trainer import TrainingJob, fit

    spe = data.steps_per_epoch(BATCH)
    epochs = max(1, -(-steps // spe))
    job = TrainingJob(model=MODEL, model_options=OPTIONS,
                      train=TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, device="cpu"))
    marks: dict[str, float] = {}

    def on_event(event) -> None:
        if isinstance(event, ev.Started):
            marks["start"] = time.perf_counter()
        elif isinstance(event, ev.Finished):
            marks["end"] = time.perf_counter()

    result = fit(job, data, on_event=on_event)
    images = result.step * BATCH
    return images / (marks["end"] - marks["start"])


def training_step_flops(data) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    model = make_model()
    x = data.to_float(data.images[:BATCH])
    with FlopCounterMode(display=False) as counter:
        loss, _ = model.training_loss(x, x)
        loss.backward()
    return float(counter.get_total_flops())


def matmul_flops_per_s(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def run(quick: bool = False) -> dict[str, Figure]:
    from aestudio.core.config import DataConfig
    from aestudio.core.data.training_data import load_training_data
    from aestudio.core.runtime.precision import mixed_precision_dtype

    count = 2_000 if quick else 10_000
    steps = 8 if quick else 180
    repeats = 1 if quick else 3
    folder = mnist_folder(count)
    data = load_training_data(DataConfig(folder=str(folder), size=28, val_fraction=0.1),
                              patches=False, cache_dir=None)
    # The first steps of a process are slow (oneDNN builds its kernels for each shape): warm
    # up once so that no loop pays for it and the order of the loops does not matter.
    bare_loop(data, max(4, steps // 4), fast=False)
    bare_loop(data, max(4, steps // 4), fast=True)
    # The machine's speed drifts (other tenants, clocks): interleave the loops, take medians.
    rates: dict[str, list[float]] = {"loader": [], "bare": [], "ceiling": [], "app": []}
    for _ in range(repeats):
        rates["loader"].append(dataloader_loop(folder, steps))
        rates["bare"].append(bare_loop(data, steps, fast=False))
        rates["ceiling"].append(bare_loop(data, steps, fast=True))
        # The app's figure includes its validation passes and sample previews.
        rates["app"].append(app_trainer(data, steps))
    loader_rate, bare_rate, ceiling_rate, app_rate = (median(rates[k]) for k in
                                                      ("loader", "bare", "ceiling", "app"))
    dtype = mixed_precision_dtype("cpu") or torch.float32
    step_flops = training_step_flops(data)
    achieved = step_flops * app_rate / BATCH
    peak = matmul_flops_per_s(dtype)
    precision = f"channels-last, {str(dtype).removeprefix('torch.')}"
    baseline = f"{loader_rate:.0f} img/s ImageFolder+DataLoader({cores()} workers), float32"
    return {
        "train_images_per_s": Figure(app_rate, "img/s",
                                     note=f"{MODEL} batch {BATCH}, CPU, {precision}"),
        "train_speedup_vs_dataloader": Figure(app_rate / loader_rate, "x", baseline, ">= 1.5"),
        "train_ratio_vs_bare_loop": Figure(
            app_rate / ceiling_rate, "x", f"{ceiling_rate:.0f} img/s bare loop on tensors in "
            f"memory, {precision}", ">= 0.95"),
        "train_speedup_vs_float32_bare_loop": Figure(
            app_rate / bare_rate, "x", f"{bare_rate:.0f} img/s bare loop, float32", "report"),
        "train_flops_fraction": Figure(
            achieved / peak, "fraction",
            f"{peak / 1e9:.1f} GFLOP/s {str(dtype).removeprefix('torch.')} matmul 2048",
            "report"),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print_figures(run(parser.parse_args().quick))
