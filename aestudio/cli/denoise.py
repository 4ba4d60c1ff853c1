"""Image commands: ``denoise``, ``evaluate``, ``reconstruct`` and ``noise``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from aestudio.cli.common import (
    EXIT_SOME_FAILED,
    encode_model_folder,
    finish_batch,
    gather_inputs,
    load_model,
    read_for_model,
    save_float_image,
    unique_output,
)
from aestudio.cli.exits import EXIT_BAD_INPUT
from aestudio.cli.options import add_command, device_option, unit_interval
from aestudio.cli.progress import ProgressBar


def cmd_reconstruct(args: argparse.Namespace) -> int:
    """Write the autoencoder's output for image files and folders as PNGs. Returns the exit status."""
    from aestudio.core.errors import ImageReadError, describe_error
    from aestudio.core.models.inference import reconstruct

    loaded = load_model(args.model, args.device)
    files = gather_inputs(args.inputs)
    out = Path(args.out)
    resolved = {f.resolve() for f, _ in files}
    lines: list[str] = []
    failed: list[tuple[Path, str]] = []
    taken: set[Path] = set()  # two inputs named alike never write the same output
    for path, relative in files:
        try:
            image = reconstruct(loaded.model, read_for_model(path, loaded)[None])[0]
        except ImageReadError as exc:  # one bad file is reported; the others are done
            failed.append((path, describe_error(exc).removeprefix(f"{path}: ")))
            lines.append(f"skipped {path}: {failed[-1][1]}")
            continue
        target = unique_output(out / Path(relative).parent, path.stem, ".png", resolved, taken)
        target.parent.mkdir(parents=True, exist_ok=True)
        save_float_image(target, image)
    status = finish_batch(lines, failed, len(files), "reconstructed")
    print(f"wrote {len(files) - len(failed)} reconstructions to {out}", file=sys.stderr)
    return status


def _open_denoiser(path: str, device: str):
    """The model file at ``path`` on ``device``; a clear error when it is no denoiser."""
    from aestudio.core.errors import UserError

    loaded = load_model(path, device)
    if loaded.model.kind != "denoiser":
        raise UserError(f"{Path(path).name} is an autoencoder for "
                        f"{loaded.model.image_size} x {loaded.model.image_size} images; "
                        "denoising photos needs a denoiser model (aestudio reconstruct runs it)")
    return loaded


def _list_inputs(args: argparse.Namespace):
    """The output folder and the batch's inputs; an error when a named input gives none."""
    from aestudio.core.denoise.inputs import collect_inputs
    from aestudio.core.errors import UserError

    out = Path(args.out)
    # The same listing as the studio's batch queue (the output folder is not entered).
    inputs = collect_inputs(args.inputs, exclude=out)
    if inputs.unusable:
        raise UserError(inputs.unusable[0])
    return out, inputs


def _show_progress(bar: ProgressBar, lines: list[str] | None = None) -> Callable[[object], None]:
    """An event callback that draws the batch on ``bar`` and, given ``lines``, appends
    what happened to each file."""
    from aestudio.core.events import FileDone, FileProgress, FileStarted

    names: dict[int, str] = {}
    count = [0]

    def on_event(event: object) -> None:
        if isinstance(event, FileStarted):
            names[event.index] = Path(event.path).name
            count[0] = event.total
            bar.update(event.index / max(event.total, 1),
                       f"{event.index + 1}/{event.total} {names[event.index]}")
        elif isinstance(event, FileProgress):
            bar.update((event.index + event.done / max(event.total, 1)) / max(count[0], 1),
                       f"{event.index + 1}/{count[0]} {names.get(event.index, '')}")
        elif isinstance(event, FileDone) and lines is not None:
            lines.append(f"{event.path} -> {event.output}" if event.error is None
                         else f"skipped {event.path}: {event.error}")
            if event.note:
                lines.append(f"note: {event.path}: {event.note}")

    return on_event


def _denoise_options(args: argparse.Namespace) -> dict:
    return {"tile": args.tile, "suffix": args.suffix, "amount": args.amount,
            "luma": args.luma, "chroma": args.chroma, "mixed_precision": not args.float32}


def cmd_denoise(args: argparse.Namespace) -> int:
    """Denoise image files and folders at full resolution into ``--out``. Returns the exit status."""
    from aestudio.core.denoise.batch import denoise_files
    from aestudio.core.runtime.distributed import launched_by_torchrun

    if launched_by_torchrun():
        return _denoise_sharded(args)
    loaded = _open_denoiser(args.model, args.device)
    out, inputs = _list_inputs(args)
    lines = [f"skipped {line}" for line in inputs.skipped]
    bar = ProgressBar()
    summary = denoise_files(loaded, list(inputs.files), out,
                            on_event=_show_progress(bar, lines), **_denoise_options(args))
    bar.close()
    return finish_batch(lines, summary.failed, len(inputs.files), "denoised")


def _denoise_sharded(args: argparse.Namespace) -> int:
    """:func:`cmd_denoise` as one process of a ``torchrun`` job: it denoises its share of
    the files on its device; rank 0 alone draws progress and prints the whole batch's report."""
    from aestudio.core.denoise.batch import BatchStopped
    from aestudio.core.denoise.sharding import denoise_shard
    from aestudio.core.runtime.device import resolve_device
    from aestudio.core.runtime.distributed import distributed_job

    # Once the ranks agree on the outcome, the others leave the report and the exit status
    # to rank 0 and exit 0: torchrun ends every process when one fails, and must not end
    # rank 0 before it has printed.
    main = int(os.environ.get("RANK", "0")) == 0
    try:
        with distributed_job(resolve_device(args.device)) as (context, device):
            loaded = _open_denoiser(args.model, str(device))
            out, inputs = _list_inputs(args)
            bar = ProgressBar(enabled=context.is_main)
            summary = denoise_shard(loaded, list(inputs.files), out, context,
                                    on_event=_show_progress(bar), **_denoise_options(args))
            bar.close()
    except BatchStopped:
        if main:
            raise
        return 0
    if not main:
        return 0
    lines = [f"skipped {line}" for line in inputs.skipped]
    lines += _report(summary, [source for source, _ in inputs.files])
    return finish_batch(lines, summary.failed, len(inputs.files), "denoised")


def _report(summary, sources: list[Path]) -> list[str]:
    """One line per file of a merged batch summary, in the batch's order, as one process
    would have printed them."""
    outputs, failed, notes = dict(summary.done), dict(summary.failed), dict(summary.notes)
    lines = []
    for source in sources:
        if source in outputs:
            lines.append(f"{source} -> {outputs[source]}")
            if source in notes:
                lines.append(f"note: {source}: {notes[source]}")
        elif source in failed:
            lines.append(f"skipped {source}: {failed[source]}")
    return lines


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print the mean PSNR and SSIM of the model's output on a folder. Returns the exit status."""
    from aestudio.core.evaluation.evaluate import evaluate_folder

    if args.probe:
        return _probe(args)
    loaded = load_model(args.model, args.device)
    report = evaluate_folder(loaded, Path(args.data), noise=args.noise, seed=args.seed,
                             limit=args.limit, clip=args.clip)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:14} {value}")
    return 0



def _probe(args: argparse.Namespace) -> int:
    """``evaluate --probe``: the linear-probe accuracy of an autoencoder's codes."""
    from aestudio.core.errors import DatasetError
    from aestudio.core.latent.probe import linear_probe

    _loaded, data = encode_model_folder(args, "evaluate --probe")
    if len(set(data.labels)) < 2:
        raise DatasetError(f"{args.data}: a linear probe needs labels (images in at least two "
                           "label subfolders)")
    result = linear_probe(data.codes, data.labels, seed=args.seed)
    if args.json:
        print(json.dumps({"probe_accuracy": result.accuracy, "chance": result.chance,
                          "n_fit": result.n_fit, "n_test": result.n_test,
                          "labels": result.n_labels}))
    else:
        print(result.line())
    return 0


def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "reconstruct", cmd_reconstruct, "write the autoencoder's output for images")
    p.add_argument("model")
    p.add_argument("inputs", nargs="+", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder")
    device_option(p)

    p = add_command(sub, "denoise", cmd_denoise, "denoise photos or folders at full resolution",
            "Denoise images at full resolution, tile by tile. Outputs keep the input's format, "
            "bit depth, EXIF and ICC profile, and get a JSON sidecar naming the model.")
    p.add_argument("model")
    p.add_argument("inputs", nargs="+", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder (inputs are never overwritten)")
    p.add_argument("--tile", type=int, help="tile side (default: chosen for the device)")
    p.add_argument("--amount", type=unit_interval, default=1.0,
                   help="blend: 0 keeps the input, 1 the full denoised result")
    p.add_argument("--luma", type=unit_interval, default=1.0,
                   help="strength of the luminance correction, 0 to 1 (0 keeps film grain)")
    p.add_argument("--chroma", type=unit_interval, default=1.0,
                   help="strength of the colour-noise correction, 0 to 1")
    p.add_argument("--suffix", default="", help="added to each output file's stem")
    p.add_argument("--float32", action="store_true",
                   help="compute in float32 where bfloat16 would be used (slower; "
                        "docs/denoise.md compares the two)")
    device_option(p)

    p = add_command(sub, "evaluate", cmd_evaluate, "mean PSNR and SSIM of the model's output on a folder")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--noise", help="add this noise first (default: the model's training noise)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="evaluate at most this many images")
    p.add_argument("--clip", action=argparse.BooleanOptionalAction, default=None,
                   help="clip the noisy images to black and white (default: as the model "
                        "was trained; --no-clip for the classic benchmarks' convention)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--probe", action="store_true",
                   help="autoencoders: the accuracy of a linear classifier fitted on the codes "
                        "of 80%% of the labelled images and scored on the rest")
    device_option(p)

    p = add_command(sub, "noise", cmd_noise, "estimate how noisy photos are",
                    "Estimate each image's noise from the image alone: its level (on the "
                    "0-255 scale) overall and by brightness, and whether it is spread over "
                    "neighbouring pixels (demosaicing, JPEG), with the spacing self-supervised "
                    "training would choose for it.")
    p.add_argument("inputs", nargs="+", help="image files or folders")
    p.add_argument("--json", action="store_true", help="print one JSON list")


def cmd_noise(args: argparse.Namespace) -> int:
    """Print how noisy each image is, and whether its noise is correlated. Returns the exit
    status (3 when some files could not be read)."""
    from aestudio.core.data.noise_estimate import describe_levels, estimate_photo
    from aestudio.core.errors import describe_error, is_user_error
    from aestudio.core.io.read import read_image

    failed = 0
    rows = []
    for path, _relpath in gather_inputs(args.inputs):
        try:
            array, _info = read_image(path)
        except Exception as exc:
            if not (is_user_error(exc) or isinstance(exc, OSError)):
                raise
            failed += 1
            print(f"skipped {path}: {describe_error(exc)}", file=sys.stderr)
            continue
        estimate = estimate_photo(array)
        if estimate is None:
            print(f"{path}: too small to measure (64 x 64 pixels at least)", file=sys.stderr)
            continue
        rows.append({"file": str(path), "sigma": estimate.sigma,
                     "by_brightness": estimate.by_brightness,
                     "correlation": estimate.neighbours, "spacing": estimate.spacing})
        if not args.json:
            print(f"{path}: {estimate.describe()}; by brightness {describe_levels(estimate)}; "
                  f"self-supervised spacing {estimate.spacing}")
    if args.json:
        print(json.dumps(rows))
    return EXIT_SOME_FAILED if failed and rows else (EXIT_BAD_INPUT if failed else 0)
