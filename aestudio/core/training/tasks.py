"""What a training step asks of the model, by task: the inputs, the target and the loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from aestudio.core.data.noise import NoiseModel, parse_noise
from aestudio.core.models.base import ImageModel


@dataclass(frozen=True)
class Task:
    """A training task: ``reconstruct`` or ``denoise`` (synthetic noise, clean target)."""

    name: str
    noise: NoiseModel
    clip: bool = True  # noisy inputs clipped to [0, 1], as real photos are

    def inputs(self, clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The model's input for a clean batch (noisy for denoising)."""
        if self.name == "denoise":
            return self.noise.apply(clean, generator, clip=self.clip)
        return clean

    def loss(self, model: ImageModel, batch: torch.Tensor, noisy: torch.Tensor,
             generator: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of one step; ``noisy`` is :meth:`inputs` of ``batch``."""
        return model.training_loss(noisy, batch, generator)

    def predict(self, model: ImageModel, noisy: torch.Tensor) -> torch.Tensor:
        """The output people look at for an input batch."""
        return model(noisy)


def make_task(name: str, noise: str, method: str = "neighbor2neighbor",
              clip: bool = True) -> Task:
    """The task object for a :class:`~aestudio.core.config.TrainConfig` task name (with the
    self-supervised method, and whether synthetic noise is clipped)."""
    if name == "self-supervised":
        from aestudio.core.training.selfsupervised import SelfSupervisedTask

        return SelfSupervisedTask(name, parse_noise(noise), method)
    return Task(name, parse_noise(noise if name == "denoise" else "none"), clip)


class TaskLoss(nn.Module):
    """The task's loss as a module, so DDP sees the forward pass it must synchronise."""

    def __init__(self, model: ImageModel, task: Task) -> None:
        super().__init__()
        self.model = model
        self.task = task

    def forward(self, clean: torch.Tensor, noisy: torch.Tensor,
                generator: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.task.loss(self.model, clean, noisy, generator)
