"""``aestudio train``: train a model on a folder of images."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from aestudio.cli.options import add_command, device_option
from aestudio.cli.progress import ProgressBar, _format_eta


def cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from aestudio.core import events as ev
    from aestudio.core.config import DataConfig, TrainConfig
    from aestudio.core.training.trainer import TrainingJob, fit, resume_job

    overrides = {k: v for k, v in {
        "epochs": args.epochs, "max_minutes": args.max_minutes, "device": args.device,
    }.items() if v is not None}
    if args.max_minutes is not None and args.epochs is None:
        overrides["epochs"] = 100_000  # the time budget decides
    if args.resume:
        job = resume_job(args.out, **overrides)
        job = replace(job, data=replace(job.data, folder=str(args.data)))
    else:
        options = {}
        if args.latent_dim is not None:
            options["latent_dim"] = args.latent_dim
        for item in args.option or []:
            key, _, value = item.partition("=")
            options[key.replace("-", "_")] = json.loads(value) if value[:1] in "[{0123456789-tf" \
                and value not in ("-",) else value
        data = DataConfig(folder=str(args.data), size=args.size, patch=args.patch,
                          channels=args.channels, val_fraction=args.val_fraction)
        train = TrainConfig(task=args.task, noise=args.noise, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed, **overrides)
        job = TrainingJob(model=args.model, model_options=options, data=data, train=train,
                          out=Path(args.out))
    if not args.resume and Path(args.out).exists() and not args.overwrite:
        raise ValueError(f"{args.out} exists; pass --resume to continue it or --overwrite")

    # Under torchrun only rank 0 talks; the others train silently.
    quiet = int(os.environ.get("RANK", "0")) > 0
    log = (lambda *a, **k: None) if quiet else print
    bar = ProgressBar(enabled=not quiet)
    stop = threading.Event()
    state = {"val": None, "skipped_shown": False}

    def on_event(event) -> None:
        if isinstance(event, ev.Loading):
            bar.update(event.done / max(event.total, 1), f"{event.stage} {event.done}/{event.total}")
        elif isinstance(event, ev.Started):
            bar.close()
            total = event.total_steps or "?"
            log(f"training {event.model} ({event.parameters:,} parameters) on {event.device}: "
                  f"{event.n_train} training / {event.n_val} validation images, "
                  f"{event.steps_per_epoch} steps per epoch, {total} steps", file=sys.stderr)
        elif isinstance(event, ev.Progress):
            val = f" val {state['val']:.5f}" if state["val"] is not None else ""
            bar.update(event.fraction, f"epoch {event.epoch + 1} step {event.step} "
                       f"loss {event.train_loss:.5f}{val} {event.images_per_s:,.0f} img/s "
                       f"ETA {_format_eta(event.eta_s)}")
        elif isinstance(event, ev.Validated):
            state["val"] = event.val_loss
        elif isinstance(event, ev.Finished):
            bar.close()

    # Ctrl+C, and SIGTERM from a scheduler (scancel, preemption), stop and save the model.
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in handled} \
        if threading.current_thread() is threading.main_thread() else {}
    try:
        from aestudio.core.data.training_data import load_training_data
        from aestudio.core.models import get_entry

        data = load_training_data(
            job.data, patches=get_entry(job.model).kind == "denoiser", seed=job.train.seed,
            stop=stop, progress=lambda s, d, t: on_event(ev.Loading(s, d, t)))
        bar.close()
        for skipped in data.skipped:
            log(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
        for note in data.notes:
            log(note, file=sys.stderr)
        result = fit(job, data, on_event=on_event, stop=stop, resume=args.resume)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    val = f"; validation loss {result.val_loss:.5f}" if result.val_loss is not None else ""
    log(f"{result.message}{val}; model written to {result.path}" if result.path
        else result.message, file=sys.stderr)
    return 0 if result.reason != "diverged" else 1



def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "train", cmd_train, "train a model on a folder of images",
            "Train a model on a folder of images (labels are subfolder names). "
            "Ctrl+C stops and saves the model.")
    p.add_argument("data", help="folder of images")
    p.add_argument("--model", default="conv-ae", help="mlp-ae, conv-ae, vae or denoiser")
    p.add_argument("--out", required=True, help="model file to write (.aemodel)")
    p.add_argument("--task", default="reconstruct",
                   choices=["reconstruct", "denoise", "self-supervised"])
    p.add_argument("--noise", default="gaussian:25",
                   help="gaussian:SIGMA, poisson-gaussian:PEAK,SIGMA, salt-pepper:FRACTION, "
                        "speckle:SIGMA or none (sigma on the 0-255 scale)")
    p.add_argument("--size", type=int, default=28, help="image side for autoencoders")
    p.add_argument("--patch", type=int, default=64, help="patch side for denoisers")
    p.add_argument("--channels", type=int, default=0, choices=[0, 1, 3],
                   help="1 gray, 3 colour, 0 follow the folder")
    p.add_argument("--latent-dim", type=int, help="size of the latent code")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="any model option, e.g. --option width=64 (repeatable)")
    p.add_argument("--epochs", type=int, help="passes over the data (default 10)")
    p.add_argument("--max-minutes", type=float, help="time budget in minutes")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    device_option(p, None)
    p.add_argument("--resume", action="store_true",
                   help="continue training the model file given by --out where it stopped")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
