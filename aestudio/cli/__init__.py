"""The ``aestudio`` command line: the GUI with no arguments, headless subcommands otherwise."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from aestudio import __version__

# Errors that mean "bad input": one line, exit status 2, no traceback.
EXIT_BAD_INPUT = 2


def _user_errors() -> tuple[type[BaseException], ...]:
    from aestudio.core.config import ConfigError
    from aestudio.core.data.imagefolder import DatasetError
    from aestudio.core.data.noise import NoiseSpecError
    from aestudio.core.io.imageio import ImageReadError
    from aestudio.core.models.modelfile import ModelFileError
    from aestudio.core.training.trainer import TrainingError

    return (ConfigError, DatasetError, ImageReadError, ModelFileError, NoiseSpecError,
            TrainingError, FileNotFoundError, NotADirectoryError, PermissionError, ValueError)


class ProgressBar:
    """A one-line progress bar on a terminal; occasional plain lines otherwise."""

    def __init__(self, stream=None, interval_s: float = 5.0, enabled: bool = True) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval_s = interval_s
        self._last = 0.0

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if not force and now - self._last < 0.1:
                return
            width = 28
            filled = int(width * min(max(fraction, 0.0), 1.0))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                              f"{100 * fraction:5.1f}% {text}\x1b[K")
        else:
            if not force and now - self._last < self.interval_s:
                return
            self.stream.write(f"{100 * fraction:5.1f}% {text}\n")
        self.stream.flush()
        self._last = now

    def close(self) -> None:
        if self.tty and self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _inputs(paths: Sequence[str]) -> list[tuple[Path, str]]:
    """Image files named directly, plus every image inside named folders, each with the
    relative path its output keeps."""
    from aestudio.core.data.imagefolder import scan_folder

    files: list[tuple[Path, str]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            scan = scan_folder(path)
            for skipped in scan.skipped:
                print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
            files += [(record.path, record.relpath) for record in scan.images]
        elif path.is_file():
            files.append((path, path.name))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


def _load(path: str, device: str = "auto"):
    from aestudio.core.models.modelfile import load_model_file
    from aestudio.core.runtime.device import resolve_device

    return load_model_file(path, device=resolve_device(device))


def _need_autoencoder(loaded, command: str) -> None:
    if loaded.model.kind != "autoencoder":
        raise ValueError(f"{command} needs an autoencoder; {loaded.name} has no latent code")


def _read_for_model(path: Path, loaded):
    from aestudio.core.io.imageio import ImageReadError, read_image
    from aestudio.core.models.inference import to_model_tensor

    try:
        image, _ = read_image(path)
    except ImageReadError as exc:
        raise ImageReadError(f"{path}: {exc}") from None
    model = loaded.model
    return to_model_tensor([image], model.channels, model.image_size)[0]


def _save_float_image(path: Path, array, bit_depth: int = 8) -> None:
    import numpy as np

    from aestudio.core.io.imageio import from_float, write_image

    dtype = np.uint16 if bit_depth == 16 else np.uint8
    write_image(path, from_float(array, dtype))


# -- commands --------------------------------------------------------------------------
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


def cmd_info(args: argparse.Namespace) -> int:
    from aestudio.core.models.modelfile import read_model_meta

    meta = read_model_meta(args.model)
    if args.json:
        print(json.dumps(meta, indent=2))
        return 0
    state = meta.get("training_state", {})
    data = meta.get("data", {})
    train = meta.get("train") or {}
    lines = [
        f"model        {meta['architecture']} ({meta['kind']})",
        f"options      {json.dumps(meta['model_config'])}",
        f"images       {data.get('channels')} channel(s), "
        + (f"{data['size']}x{data['size']}" if data.get("size") else f"patches {data.get('patch')}")
        + f", {data.get('bit_depth', 8)}-bit source",
        f"data         {data.get('config', {}).get('folder', '?')} "
        f"({data.get('n_train', '?')} training, {data.get('n_val', '?')} validation)",
        f"labels       {', '.join(data.get('labels', [])) or '-'}",
        f"task         {train.get('task', '?')}"
        + (f" with noise {train.get('noise')}" if train.get("task") != "reconstruct" else ""),
        f"trained      {state.get('step', 0)} steps, {state.get('epoch', 0)} epochs, "
        f"{state.get('elapsed_s', 0) / 60:.1f} min ({state.get('reason', '?')})",
        f"val loss     {state.get('val_loss')}",
        f"app version  {meta.get('app_version')} (schema {meta.get('schema_version')})",
    ]
    print("\n".join(lines))
    return 0


def cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    from aestudio.core.data.imagefolder import decode_folder, scan_folder
    from aestudio.core.models.inference import encode

    loaded = _load(args.model, args.device)
    _need_autoencoder(loaded, "encode")
    model = loaded.model
    scan = scan_folder(args.data)
    for skipped in scan.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    decoded = decode_folder(scan, size=model.image_size, channels=model.channels)
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    import torch

    images = torch.from_numpy(decoded.images.astype(np.float32) / scale)
    codes = encode(model, images)
    paths = [r.relpath for r in decoded.records]
    labels = [r.label for r in decoded.records]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez(out, codes=codes, paths=np.array(paths), labels=np.array(labels))
    else:
        import csv

        with open(out, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "label", *[f"z{i}" for i in range(codes.shape[1])]])
            for path, label, code in zip(paths, labels, codes, strict=True):
                writer.writerow([path, label, *[f"{v:.6g}" for v in code]])
    print(f"encoded {len(codes)} images to {out}", file=sys.stderr)
    return 0


def _parse_code(text: str) -> list[float]:
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--z must be numbers separated by commas; got {text!r}") from None


def cmd_decode(args: argparse.Namespace) -> int:
    from aestudio.core.models.inference import decode

    loaded = _load(args.model, args.device)
    _need_autoencoder(loaded, "decode")
    image = decode(loaded.model, [_parse_code(args.z)])[0]
    _save_float_image(Path(args.out), image)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _unique_output(folder: Path, stem: str, suffix: str, inputs: set[Path]) -> Path:
    """``folder/stem+suffix``, never one of the inputs."""
    path = folder / f"{stem}{suffix}"
    if path.resolve() in inputs:
        raise ValueError(f"refusing to overwrite the input {path}; choose another --out folder")
    return path


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from aestudio.core.models.inference import reconstruct

    loaded = _load(args.model, args.device)
    files = _inputs(args.inputs)
    out = Path(args.out)
    resolved = {f.resolve() for f, _ in files}
    for path, relative in files:
        image = reconstruct(loaded.model, _read_for_model(path, loaded)[None])[0]
        target = _unique_output(out / Path(relative).parent, path.stem, ".png", resolved)
        target.parent.mkdir(parents=True, exist_ok=True)
        _save_float_image(target, image)
    print(f"wrote {len(files)} reconstructions to {out}", file=sys.stderr)
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    import numpy as np

    from aestudio.core.latent.interpolation import interpolate_images

    loaded = _load(args.model, args.device)
    _need_autoencoder(loaded, "interpolate")
    first = _read_for_model(Path(args.image_a), loaded)
    second = _read_for_model(Path(args.image_b), loaded)
    frames, _ = interpolate_images(loaded.model, first, second, args.steps, args.mode)
    strip = np.concatenate(list(frames), axis=1)
    _save_float_image(Path(args.out), strip)
    print(f"wrote {args.steps} frames to {args.out}", file=sys.stderr)
    return 0


def cmd_denoise(args: argparse.Namespace) -> int:
    from aestudio.core.denoise.batch import denoise_files

    loaded = _load(args.model, args.device)
    files = _inputs(args.inputs)
    bar = ProgressBar()

    def progress(index: int, total: int, name: str, fraction: float) -> None:
        bar.update((index + fraction) / max(total, 1), f"{index + 1}/{total} {name}")

    written = denoise_files(loaded, files, Path(args.out), tile=args.tile, suffix=args.suffix,
                            amount=args.amount, luma=args.luma, chroma=args.chroma,
                            progress=progress, mixed_precision=not args.float32)
    bar.close()
    for source, target in written:
        print(f"{source} -> {target}", file=sys.stderr)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from aestudio.core.evaluation.evaluate import evaluate_folder

    loaded = _load(args.model, args.device)
    report = evaluate_folder(loaded, Path(args.data), noise=args.noise, seed=args.seed,
                             limit=args.limit)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:14} {value}")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from aestudio.core.latent.explore import (
        LAYOUT_NAMES,
        build_map,
        encode_folder,
        knn_label_accuracy,
    )
    from aestudio.core.latent.map_render import render_map

    loaded = _load(args.model, args.device)
    _need_autoencoder(loaded, "map")
    bar = ProgressBar()
    data = encode_folder(loaded.model, args.data,
                         progress=lambda s, d, t: bar.update(d / max(t, 1), f"{s} {d}/{t}"))
    bar.close()
    for note in data.notes:
        print(note, file=sys.stderr)
    latent_map = build_map(data.codes, args.layout)
    note = f"{len(data):,} images\n{loaded.name}, {data.latent_dim}-number code"
    if len(data.label_names) > 1:
        accuracy = knn_label_accuracy(latent_map.positions, data.labels, 5)
        note += f"\n5-NN label accuracy {accuracy:.3f}"
        print(f"5-NN label accuracy of the map: {accuracy:.4f}", file=sys.stderr)
    name = LAYOUT_NAMES[latent_map.layout]
    title = f"{Path(args.model).name}: {name} map of {Path(args.data).name}" + \
        ("" if latent_map.exact else " (approximate layout)")
    render_map(latent_map.positions, data.labels, args.out, size=args.size, title=title,
               axis_titles=latent_map.axis_titles(), note=note)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from aestudio.ui.app import run_app

    return run_app(folder=getattr(args, "folder", None), model=getattr(args, "model_file", None))


def cmd_smoke(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from aestudio.ui.smoke import run_smoke

    return run_smoke(Path(args.out))


# -- parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aestudio",
        description="A studio for autoencoders. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"aestudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str,
            description: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description or help)
        p.set_defaults(func=func)
        return p

    def device_option(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
        p.add_argument("--device", default=default, choices=["auto", "cpu", "cuda", "mps"],
                       help="compute device (auto: CUDA, then Apple MPS, then CPU)")

    p = add("gui", cmd_gui, "open the app (the default)")
    p.add_argument("folder", nargs="?", help="image folder to open")
    p.add_argument("--model", dest="model_file", help="model file to open")

    p = add("train", cmd_train, "train a model on a folder of images",
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

    p = add("encode", cmd_encode, "write the latent code of every image in a folder")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="codes.csv or codes.npz")
    device_option(p)

    p = add("decode", cmd_decode, "decode one latent code to an image")
    p.add_argument("model")
    p.add_argument("--z", required=True, help="the code, e.g. 0.5,-1.2")
    p.add_argument("--out", required=True, help="image file to write")
    device_option(p)

    p = add("reconstruct", cmd_reconstruct, "write the autoencoder's output for images")
    p.add_argument("model")
    p.add_argument("inputs", nargs="+", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder")
    device_option(p)

    p = add("interpolate", cmd_interpolate, "decode a path between two images as a strip")
    p.add_argument("model")
    p.add_argument("image_a")
    p.add_argument("image_b")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--mode", default="lerp", choices=["lerp", "slerp"])
    p.add_argument("--out", required=True, help="PNG strip to write")
    device_option(p)

    p = add("denoise", cmd_denoise, "denoise photos or folders at full resolution",
            "Denoise images at full resolution, tile by tile. Outputs keep the input's format, "
            "bit depth, EXIF and ICC profile, and get a JSON sidecar naming the model.")
    p.add_argument("model")
    p.add_argument("inputs", nargs="+", help="image files or folders")
    p.add_argument("--out", required=True, help="output folder (inputs are never overwritten)")
    p.add_argument("--tile", type=int, help="tile side (default: chosen for the device)")
    p.add_argument("--amount", type=float, default=1.0,
                   help="blend: 0 keeps the input, 1 the full denoised result")
    p.add_argument("--luma", type=float, default=1.0,
                   help="strength of the luminance correction, 0 to 1 (0 keeps film grain)")
    p.add_argument("--chroma", type=float, default=1.0,
                   help="strength of the colour-noise correction, 0 to 1")
    p.add_argument("--suffix", default="", help="added to each output file's stem")
    p.add_argument("--float32", action="store_true",
                   help="compute in float32 where bfloat16 would be used (about half as fast; "
                        "the results differ by well under one 8-bit level)")
    device_option(p)

    p = add("evaluate", cmd_evaluate, "mean PSNR and SSIM of the model's output on a folder")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--noise", help="add this noise first (default: the model's training noise)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="evaluate at most this many images")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    device_option(p)

    p = add("map", cmd_map, "draw the latent map of a folder as a labelled PNG",
            "Encode a folder and draw its 2-D latent map: a scatter coloured by label "
            "(colour-blind safe) with axis ticks and a legend.")
    p.add_argument("model")
    p.add_argument("data", help="folder of images (labels are subfolder names)")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--layout", default="auto", choices=["auto", "codes", "pca", "tsne", "umap"],
                   help="auto: the codes themselves for a 2-number code, else PCA; tsne and "
                        "umap need scikit-learn or umap-learn")
    p.add_argument("--size", type=int, default=1200, help="image width in pixels")
    device_option(p)

    p = add("info", cmd_info, "describe a model file")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="print the whole description as JSON")

    p = add("smoke", cmd_smoke, "open the real window offscreen, train a few steps, "
            "save a PNG of each panel")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aestudio`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("aestudio: interrupted", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"aestudio: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
