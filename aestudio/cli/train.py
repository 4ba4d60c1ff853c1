"""``aestudio train``: train a model on a folder of images."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from aestudio.cli.options import add_command, add_config_options, given
from aestudio.cli.progress import ProgressBar, format_eta
from aestudio.core.config import DataConfig, TrainConfig
from aestudio.core.errors import ConfigError, TrainingError
from aestudio.core.io.outputs import check_output_file

# Fields of the configs that have their own flag (or argument) in this command.
_DATA_SKIP = ("folder",)
# Words the command line adds to a field's help.
_EXTRA_HELP = {
    "noise": "One of gaussian:SIGMA, poisson-gaussian:PEAK,SIGMA, camera[:STRENGTH], "
             "mixed[:MAX] (a different noise per image, for a denoiser of any photo), "
             "salt-pepper:FRACTION, speckle:STD or none (sigma on the 0-255 scale).",
    "epochs": "With --max-minutes alone, the time budget decides.",
}


def _field_names(cls: type, skip: tuple[str, ...] = ()) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(cls) if f.name not in skip]


def _parse_option(item: str) -> tuple[str, object]:
    """``KEY=VALUE`` of ``--option``: JSON for numbers, lists, objects and booleans."""
    key, _, value = item.partition("=")
    parsed = json.loads(value) if value[:1] in "[{0123456789-tf" \
        and value not in ("-",) else value
    return key.replace("-", "_"), parsed


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model on a folder, or continue one with ``--resume``.

    Returns 0 when the run ends normally (completed, stopped or out of time); a diverged
    loss is a :class:`TrainingError` (status 2). Ctrl+C and SIGTERM stop the run and save
    the model.
    """
    from dataclasses import replace

    from aestudio.core import events as ev
    from aestudio.core.training.job import fine_tune_job
    from aestudio.core.training.trainer import TrainingJob, fit, resume_job

    train_given = given(args, _field_names(TrainConfig))
    if args.max_minutes is not None and args.epochs is None:
        train_given["epochs"] = 100_000  # the time budget decides
    if args.resume:
        # Flags given with --resume change how training goes on; the data and the model stay.
        job = resume_job(args.out, **train_given)
        job = replace(job, data=replace(job.data, folder=str(args.data)))
    else:
        options = {}
        if args.latent_dim is not None:
            options["latent_dim"] = args.latent_dim
        for item in args.option or []:
            try:
                key, value = _parse_option(item)
            except json.JSONDecodeError:
                raise ConfigError(f"--option {item}: the value is not valid JSON") from None
            options[key] = value
        data = DataConfig(folder=str(args.data),
                          **given(args, _field_names(DataConfig, _DATA_SKIP)))
        train = TrainConfig(**train_given)
        if args.init:
            job = fine_tune_job(args.init, data, train, Path(args.out), options)
            if args.model is not None and args.model != job.model:
                raise ConfigError(f"--model {args.model} differs from the {job.model} of "
                                  f"--init {args.init}; leave --model out to fine-tune")
        else:
            job = TrainingJob(model=args.model or "conv-ae", model_options=options, data=data,
                              train=train, out=Path(args.out))
    if not args.resume and Path(args.out).exists() and not args.overwrite:
        raise ConfigError(f"{args.out} exists; pass --resume to continue it or --overwrite")
    # Before any image is read: a run must never train for an hour and then fail to save.
    check_output_file(args.out, inputs=[args.data])

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
                       f"ETA {format_eta(event.eta_s)}")
        elif isinstance(event, ev.Validated):
            state["val"] = event.val_loss
        elif isinstance(event, ev.Finished):
            bar.close()

    # Ctrl+C, and SIGTERM from a scheduler (scancel, preemption), stop and save the model.
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in handled} \
        if threading.current_thread() is threading.main_thread() else {}
    try:
        from aestudio.core.data.records import ScanCancelled
        from aestudio.core.training.setup import prepare_run

        try:
            prepared = prepare_run(job, resume=args.resume, on_event=on_event, stop=stop)
        except ScanCancelled:
            bar.close()
            log("stopped while reading the images; nothing was trained or written",
                file=sys.stderr)
            return 0
        bar.close()
        for skipped in prepared.data.skipped:
            log(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
        for note in prepared.data.notes:
            log(note, file=sys.stderr)
        result = fit(prepared.job, prepared.data, on_event=on_event, stop=stop,
                     resume=prepared.resume)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if result.reason == "diverged":  # the person can fix it (a lower --lr, other noise)
        kept = f"; the last good model is in {result.path}" if result.path else ""
        raise TrainingError(f"{result.message}{kept}")
    val = f"; validation loss {result.val_loss:.5f}" if result.val_loss is not None else ""
    log(f"{result.message}{val}; model written to {result.path}" if result.path
        else result.message, file=sys.stderr)
    return 0



def add_parsers(sub) -> None:
    """Add the parser of ``train`` to ``sub``; the config options are generated."""
    p = add_command(sub, "train", cmd_train, "train a model on a folder of images",
                    "Train a model on a folder of images (labels are subfolder names). "
                    "Ctrl+C stops and saves the model.")
    p.add_argument("data", help="folder of images")
    p.add_argument("--model", help="mlp-ae, conv-ae (the default), vae or denoiser")
    p.add_argument("--init", metavar="MODEL",
                   help="start from this model file's weights (or a bundled model: photo) "
                        "and train on from there with its architecture and options "
                        "(docs/denoise.md has what fine-tuning the bundled model gave)")
    p.add_argument("--out", required=True, help="model file to write (.aemodel)")
    p.add_argument("--latent-dim", type=int, help="size of the latent code")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="any model option, e.g. --option width=64 (repeatable)")
    p.add_argument("--resume", action="store_true",
                   help="continue training the model file given by --out where it stopped")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_config_options(p.add_argument_group("data options"), DataConfig, skip=_DATA_SKIP,
                       extra_help=_EXTRA_HELP)
    add_config_options(p.add_argument_group("training options"), TrainConfig,
                       extra_help=_EXTRA_HELP)
