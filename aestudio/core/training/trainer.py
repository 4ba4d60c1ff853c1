"""The training loop: runs in any thread, reports events, honours stop and pause.

The same :func:`fit` serves the command line, the GUI worker, the benchmarks and
``torchrun`` jobs. Data order and noise come from generators seeded by (seed, epoch)
and (seed, step), so a run resumed from its model file repeats the uninterrupted run.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from aestudio.core import events as ev
from aestudio.core.config import to_dict
from aestudio.core.data.training_data import SAMPLE_COUNT, TrainingData
from aestudio.core.errors import ModelFileError, TrainingError
from aestudio.core.events import EventCallback
from aestudio.core.models import create_model, get_entry, make_config
from aestudio.core.models.base import ImageModel
from aestudio.core.models.memory import check_training_memory
from aestudio.core.models.modelfile import load_model_file, save_model_file
from aestudio.core.models.neighbours import neighbour_graph, pair_positions
from aestudio.core.runtime.device import describe_device, resolve_device
from aestudio.core.runtime.distributed import any_rank, init_distributed, shutdown_distributed
from aestudio.core.runtime.precision import autocast, mixed_precision_dtype, to_channels_last
from aestudio.core.training.folders import remember_training_folder, shared_folder_name
from aestudio.core.training.job import TrainingJob, TrainResult, model_options, resume_job
from aestudio.core.training.optimizers import make_optimizer
from aestudio.core.training.schedule import lr_factor, seeded_generator, thin_history
from aestudio.core.training.setup import check_resumable, prepare_run
from aestudio.core.training.spacing import choose_spacing
from aestudio.core.training.tasks import Task, TaskLoss, make_task

# Re-exported: callers import the job, its resumption and the error from the trainer too.
__all__ = ["TrainResult", "TrainingError", "TrainingJob", "build_model", "fit", "lr_factor",
           "resume_job"]

PROGRESS_INTERVAL_S = 0.1


def build_model(job: TrainingJob, data: TrainingData) -> ImageModel:
    """The job's model, with channels (and image size) following the data.

    Raises
    ------
    TrainingError
        When an autoencoder is asked to train on patches.
    """
    kind = get_entry(job.model).kind
    if kind == "autoencoder" and data.patch is not None:
        raise TrainingError(f"{job.model} needs whole images, not patches")
    options = model_options(job, kind, data.channels, data.size)
    side = data.patch or data.size
    entry = get_entry(job.model)
    # Before a byte is allocated: a run that cannot fit is one line, not an allocator crash.
    check_training_memory(job.model, entry.cls, make_config(job.model, options),
                          batch_size=job.train.batch_size, image_shape=(data.channels, side, side))
    return create_model(job.model, **options)


def _to_hwc(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()


class _Run:
    """State of one call to :func:`fit` (kept in one place so the loop reads plainly)."""

    def __init__(self, job: TrainingJob, data: TrainingData, emit: EventCallback,
                 stop: threading.Event, pause: threading.Event | None, resume: bool) -> None:
        self.job, self.data, self.stop, self.pause = job, data, stop, pause
        cfg = job.train
        self.cfg = cfg
        self.dist, self.device = init_distributed(resolve_device(cfg.device))
        self.emit = emit if self.dist.is_main else (lambda event: None)
        torch.manual_seed(cfg.seed)
        self.model = to_channels_last(build_model(job, data).to(self.device))
        self.optimizer = make_optimizer(self.model.parameters(), cfg)
        self.task: Task = make_task(cfg.task, cfg.noise, cfg.method, cfg.clip_noise)
        self.loss_module: nn.Module = TaskLoss(self.model, self.task)
        if self.dist.enabled:
            self.loss_module = DistributedDataParallel(
                self.loss_module, device_ids=[self.device.index] if self.device.type == "cuda"
                else None)
        self.step = 0
        self.elapsed_before = 0.0
        self.history: dict[str, list[list[float]]] = {"train": [], "val": []}
        if resume:
            self._load_state()
        elif job.init:
            self._load_init_weights()
        # With N processes an epoch is shared among them: each rank takes 1/N of the steps.
        world = self.dist.world_size
        self.spe = data.steps_per_epoch(cfg.batch_size * world,
                                        cfg.patches_per_epoch)
        self.total_steps = cfg.epochs * self.spe
        self.budget_s = cfg.max_minutes * 60 if cfg.max_minutes else None
        self.amp_dtype = mixed_precision_dtype(self.device) if cfg.amp else None
        # float16 gradients can underflow; bfloat16 has float32's range and needs no scaling.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.val_clean = data.validation_batch()
        self.val_noisy = self.task.inputs(self.val_clean, seeded_generator(cfg.seed, 99_991))
        # Samples spread over the validation set (it is sorted by folder, so by label).
        count = min(SAMPLE_COUNT, len(self.val_clean))
        self.sample_index = torch.linspace(0, len(self.val_clean) - 1, count).round().long()
        self.last_checkpoint_step: int | None = self.step if resume else None
        self._folder_remembered = False
        self.val_loss: float | None = None
        # Neighbour graph of the training images, for models with a neighbour-embedding term.
        self.neighbours: torch.Tensor | None = None

    def _load_state(self) -> None:
        loaded = load_model_file(self.job.out, with_optimizer=True)
        self.model.load_state_dict(loaded.model.state_dict())
        if loaded.optimizer_state:
            try:
                self.optimizer.load_state_dict(loaded.optimizer_state)
            except (KeyError, TypeError, ValueError, RuntimeError) as exc:
                raise ModelFileError(f"{Path(self.job.out).name}: the saved optimizer state "
                                     f"does not fit this model ({exc})") from None
            self._check_optimizer_shapes()
        state = loaded.training_state
        self.step = int(state.get("step", 0))
        self.elapsed_before = float(state.get("elapsed_s", 0.0))
        self.history = {k: list(v) for k, v in state.get("history", self.history).items()}

    def _load_init_weights(self) -> None:
        """Start from the weights of ``job.init`` (fine-tuning); a fresh optimizer."""
        source = load_model_file(self.job.init)
        try:
            self.model.load_state_dict(source.model.state_dict())
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1].strip()
            raise ModelFileError(f"{source.meta.get('architecture')} weights of {self.job.init} "
                                 f"do not fit this model ({first})") from None

    def _check_optimizer_shapes(self) -> None:
        # load_state_dict checks the groups, not the tensors: a forged moment of the wrong
        # shape would only fail at the first step, deep inside the optimizer.
        for group in self.optimizer.param_groups:
            for param in group["params"]:
                for key, value in self.optimizer.state.get(param, {}).items():
                    if (isinstance(value, torch.Tensor) and value.dim() > 0
                            and (value.shape != param.shape or not torch.isfinite(value).all())):
                        raise ModelFileError(
                            f"{Path(self.job.out).name}: the saved optimizer state ({key}) does "
                            "not fit this model; train anew with --overwrite")

    # -- helpers ---------------------------------------------------------------------
    def elapsed(self, t0: float, paused_s: float) -> float:
        return self.elapsed_before + time.perf_counter() - t0 - paused_s

    def fraction(self, elapsed: float) -> float:
        f = self.step / self.total_steps
        if self.budget_s:
            f = max(f, elapsed / self.budget_s)
        return min(1.0, f)

    def autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.device, enabled=self.amp_dtype is not None)

    def data_meta(self) -> dict[str, Any]:
        d = self.data
        return {
            # The folder's name only: a shared model file must not reveal the trainer's paths.
            "config": {**to_dict(self.job.data), "folder": shared_folder_name(self.job.data.folder)},
            "channels": d.channels, "size": d.size,
            "patch": d.patch, "bit_depth": d.bit_depth, "labels": list(d.labels),
            "n_train": d.n_train, "n_val": d.n_val,
        }

    def save(self, elapsed: float, reason: str) -> Path | None:
        if self.job.out is None:
            return None
        state = {"step": self.step, "epoch": self.step // self.spe, "elapsed_s": elapsed,
                 "steps_per_epoch": self.spe, "history": self.history, "reason": reason,
                 "val_loss": self.val_loss}
        path = save_model_file(self.job.out, self.model, data=self.data_meta(),
                               train=self.cfg, training_state=state, optimizer=self.optimizer)
        if not self._folder_remembered:  # once a run: it reads and writes a small index
            remember_training_folder(path, self.job.data.folder)
            self._folder_remembered = True
        self.last_checkpoint_step = self.step
        self.emit(ev.CheckpointSaved(str(path), self.step))
        return path

    @torch.no_grad()
    def validate(self) -> tuple[float, float | None]:
        self.model.eval()
        losses, psnrs = [], []
        gen = seeded_generator(self.cfg.seed, 424_242)
        for start in range(0, len(self.val_clean), 256):
            clean = self.val_clean[start:start + 256].to(self.device)
            noisy = self.val_noisy[start:start + 256].to(self.device)
            with self.autocast():
                loss, _ = self.task.loss(self.model, clean, noisy, gen)
                out = self.task.predict(self.model, noisy).float().clamp(0, 1)
            losses.append(float(loss) * len(clean))
            mse = (out - clean).square().flatten(1).mean(1).clamp_min(1e-12)
            psnrs.append((-10 * torch.log10(mse)).sum().item())
        self.model.train()
        n = len(self.val_clean)
        return sum(losses) / n, sum(psnrs) / n

    def snapshot(self) -> ev.Snapshot:
        """A CPU copy of the weights: contiguous (they may be channels-last here), floats as
        float32, owned by the event."""
        state = {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype)
                 .clone(memory_format=torch.contiguous_format)
                 for k, v in self.model.state_dict().items()}
        return ev.Snapshot(self.step, state)

    @torch.no_grad()
    def samples(self) -> ev.Samples:
        self.model.eval()
        clean = self.val_clean[self.sample_index].to(self.device)
        noisy = self.val_noisy[self.sample_index].to(self.device)
        with self.autocast():
            out = self.task.predict(self.model, noisy)
        self.model.train()
        shown_noisy = None if self.task.name == "reconstruct" else _to_hwc(noisy)
        return ev.Samples(self.step, _to_hwc(clean), shown_noisy, _to_hwc(out))

    def train_step(self, epoch_order: torch.Tensor) -> tuple[torch.Tensor, int]:
        cfg = self.cfg
        within = self.step % self.spe
        positions = epoch_order[within * cfg.batch_size:(within + 1) * cfg.batch_size]
        if len(positions) == 0:  # patch epochs are not tied to the image count
            positions = epoch_order[: cfg.batch_size]
        # Ranks draw different noise and patches; one process keeps the plain seeds.
        rank_part = (self.dist.rank,) if self.dist.enabled else ()
        gen = seeded_generator(cfg.seed, self.step, 17, *rank_part)
        if self.neighbours is not None:
            positions = pair_positions(positions[:(len(positions) + 1) // 2], self.neighbours, gen)
        clean = self.data.batch(positions, gen, augment=cfg.augment)
        noisy = self.task.inputs(clean, gen)
        clean = clean.to(self.device, non_blocking=True)
        noisy = noisy.to(self.device, non_blocking=True)
        with self.autocast():
            loss, parts = self.loss_module(clean, noisy, gen)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        # The curve shows the reconstruction, which validation measures too; extra terms of
        # the objective (neighbours, sparsity) would put the two curves on different scales.
        shown = parts.get("reconstruction", loss) if isinstance(parts, dict) else loss
        return shown.detach().float(), len(clean)

    def epoch_order(self, epoch: int) -> torch.Tensor:
        n = self.data.n_train if self.data.patch is None else self.spe * self.cfg.batch_size
        if self.dist.enabled:
            sampler = DistributedSampler(range(n), num_replicas=self.dist.world_size,
                                         rank=self.dist.rank, shuffle=True, seed=self.cfg.seed)
            sampler.set_epoch(epoch)
            return torch.tensor(list(sampler))
        return torch.randperm(n, generator=seeded_generator(self.cfg.seed, epoch, 31))

    def neighbour_graph(self) -> torch.Tensor:
        """Each training image's nearest training images, as positions in the training set."""
        n = self.data.n_train
        if n < 2:
            raise TrainingError("the neighbour term needs at least two training images")
        self.emit(ev.Loading("neighbours", 0, n))
        pixels = self.data.batch(torch.arange(n), seeded_generator(0)).flatten(1)
        return neighbour_graph(pixels, progress=lambda done: self.emit(
            ev.Loading("neighbours", done, n)))

    def agree_to_end(self, loss: torch.Tensor, elapsed: float) -> str | None:
        """In a multi-process job all ranks must leave the loop at the same step."""
        flags = torch.tensor([float(self.stop.is_set()), float(not torch.isfinite(loss)),
                              float(bool(self.budget_s and elapsed >= self.budget_s))],
                             device=self.device)
        flags = any_rank(flags, self.dist).tolist()
        if flags[1]:
            return "diverged"
        if flags[0]:
            return "stopped"
        return "time-budget" if flags[2] else None

    # -- the loop ----------------------------------------------------------------------
    def diverged_message(self, loss: float) -> str:
        kept = (f"the model file keeps the checkpoint of step {self.last_checkpoint_step}"
                if self.last_checkpoint_step is not None else "no checkpoint had been saved yet")
        return (f"the training loss became {loss} at step {self.step}; try a lower learning "
                f"rate. {kept[0].upper()}{kept[1:]}.")

    def record_validation(self) -> None:
        self.val_loss, psnr = self.validate()
        self.history["val"].append([self.step, self.val_loss])
        self.emit(ev.Validated(self.step, self.step // self.spe, self.val_loss, psnr))

    def run(self) -> TrainResult:
        try:
            return self._loop()
        finally:
            shutdown_distributed(self.dist)

    def _loop(self) -> TrainResult:
        cfg, emit, main = self.cfg, self.emit, self.dist.is_main
        params = sum(p.numel() for p in self.model.parameters())
        t0 = time.perf_counter()
        if self.model.neighbour_weight > 0:
            # Counted in the run's time: it is part of what this training costs.
            self.neighbours = self.neighbour_graph()
        open_ended = bool(self.budget_s) and cfg.epochs >= 10**5
        emit(ev.Started(self.job.model, describe_device(self.device), params, self.data.n_train,
                        self.data.n_val, self.spe, None if open_ended else self.total_steps,
                        self.step))
        self.loss_module.train()
        paused_s = 0.0
        last_report = last_sample = last_ckpt = last_snapshot = t0
        # Weight copies for a live latent map: autoencoders only, and only when asked for.
        snapshots = main and cfg.snapshot_seconds > 0 and self.model.kind == "autoencoder"
        loss_sum = torch.zeros((), device=self.device)
        loss_count, images_since = 0, 0
        start_step = self.step
        epoch_order, order_epoch = None, -1
        reason, message = "completed", ""

        while self.step < self.total_steps:
            if not self.dist.enabled and self.stop.is_set():
                reason = "stopped"
                break
            if self.pause is not None and self.pause.is_set() and not self.dist.enabled:
                paused_at = time.perf_counter()
                emit(ev.Paused(self.step))
                while self.pause.is_set() and not self.stop.is_set():
                    self.stop.wait(0.05)
                paused_s += time.perf_counter() - paused_at
                emit(ev.Resumed(self.step))
                continue
            epoch = self.step // self.spe
            if epoch != order_epoch:
                epoch_order, order_epoch = self.epoch_order(epoch), epoch
            for group in self.optimizer.param_groups:
                group["lr"] = cfg.lr * lr_factor(self.fraction(self.elapsed(t0, paused_s)),
                                                 self.step, self.total_steps, cfg.schedule)
            loss, batch_images = self.train_step(epoch_order)
            loss_sum += loss
            loss_count += 1
            images_since += batch_images * self.dist.world_size
            self.step += 1
            now = time.perf_counter()
            elapsed = self.elapsed(t0, paused_s)
            if self.dist.enabled:
                ending = self.agree_to_end(loss, elapsed)
                if ending is not None:
                    reason = ending
                    if ending == "diverged":
                        message = self.diverged_message(float(loss))
                    break
            epoch_done = self.step % self.spe == 0
            if main and (now - last_report >= PROGRESS_INTERVAL_S or epoch_done
                         or self.step == self.total_steps):
                mean_loss = float(loss_sum) / loss_count
                if not math.isfinite(mean_loss):
                    reason, message = "diverged", self.diverged_message(mean_loss)
                    break
                fraction = self.fraction(elapsed)
                run_elapsed = now - t0 - paused_s
                done_here = fraction - (start_step / self.total_steps)
                eta = run_elapsed * (1 - fraction) / done_here if done_here > 1e-6 else None
                emit(ev.Progress(self.step, self.step // self.spe, fraction, mean_loss,
                                 self.optimizer.param_groups[0]["lr"],
                                 images_since / max(now - last_report, 1e-9), elapsed, eta))
                self.history["train"].append([self.step, mean_loss])
                thin_history(self.history["train"])
                loss_sum.zero_()
                loss_count, images_since, last_report = 0, 0, now
            if main and epoch_done:
                self.record_validation()
            if main and now - last_sample >= cfg.sample_seconds:
                emit(self.samples())
                last_sample = now
            if snapshots and now - last_snapshot >= cfg.snapshot_seconds:
                emit(self.snapshot())
                last_snapshot = now
            if main and now - last_ckpt >= cfg.checkpoint_minutes * 60:
                self.save(elapsed, "checkpoint")
                last_ckpt = time.perf_counter()
            if not self.dist.enabled and self.budget_s and elapsed >= self.budget_s:
                reason = "time-budget"
                break

        elapsed = self.elapsed(t0, paused_s)
        path = None
        # A run stopped before its first step has nothing better than the file it would
        # replace (a trained model under --overwrite, or the same state when resumed).
        untouched = (reason == "stopped" and self.step == start_step
                     and Path(self.job.out).exists())
        if reason != "diverged" and main and not untouched:
            if not self.history["val"] or self.history["val"][-1][0] != self.step:
                self.record_validation()
            emit(self.samples())
            path = self.save(elapsed, reason)
            if snapshots:
                emit(self.snapshot())
        if reason != "diverged":
            message = {
                "completed": f"finished {self.step} steps",
                "stopped": (f"stopped before the first step; {Path(self.job.out).name} was "
                            "left as it was" if untouched else
                            f"stopped at step {self.step}; the model is saved"),
                "time-budget": f"time budget reached at step {self.step}",
            }[reason]
        emit(ev.Finished(reason, self.step, str(path) if path else None, message))
        self.model.eval()
        return TrainResult(reason, self.step, path, self.model, self.history, message,
                           self.val_loss)


def fit(
    job: TrainingJob,
    data: TrainingData | None = None,
    *,
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    pause: threading.Event | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train ``job.model`` on ``job.data`` (or on ``data`` already loaded).

    Parameters
    ----------
    job
        Model, data, training options and the model file to write (``job.out``).
    data
        Training data already in memory; loaded from ``job.data.folder`` when None.
    on_event
        Called in the training thread with each event of :mod:`aestudio.core.events`.
    stop
        Set it from any thread: the run saves its model file and returns within one batch.
    pause
        While set, the run waits between batches (stop still works).
    resume
        Continue from the state saved in ``job.out`` (weights, optimizer, step, history).

    Returns
    -------
    TrainResult
        How the run ended and the trained model.
    """
    emit = on_event or (lambda event: None)
    stop = stop or threading.Event()
    if data is None:
        prepared = prepare_run(job, resume=resume, on_event=emit, stop=stop)
        job, data = prepared.job, prepared.data
    else:
        if resume:
            check_resumable(job)
        job, data, _note = choose_spacing(job, data, resume=resume)
    return _Run(job, data, emit, stop, pause, resume).run()
