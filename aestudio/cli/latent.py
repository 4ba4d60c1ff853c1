"""Latent-code commands: ``encode``, ``decode``, ``interpolate`` and ``map``."""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

from aestudio.cli.common import (
    bad_option,
    checked_output,
    encode_model_folder,
    load_model,
    need_autoencoder,
    read_for_model,
    save_float_image,
)
from aestudio.cli.options import add_command, device_option, overwrite_option
from aestudio.core.errors import ConfigError


def cmd_encode(args: argparse.Namespace) -> int:
    """Write the latent code of every image in a folder as CSV or NPZ. Returns the exit status."""
    import numpy as np

    from aestudio.core.data.decode import decode_folder
    from aestudio.core.data.scan import scan_folder
    from aestudio.core.io.atomic import atomic_write
    from aestudio.core.models.inference import encode

    out = checked_output(args.out, [args.model, args.data], overwrite=args.overwrite)
    loaded = load_model(args.model, args.device)
    need_autoencoder(loaded, "encode")
    model = loaded.model
    scan = scan_folder(args.data)
    decoded = decode_folder(scan, size=model.image_size, channels=model.channels)
    for skipped in decoded.skipped:  # unreadable headers and files that failed to decode
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    import torch

    images = torch.from_numpy(decoded.images.astype(np.float32) / scale)
    codes = encode(model, images)
    paths = [r.relpath for r in decoded.records]
    labels = [r.label for r in decoded.records]
    if args.layout:
        # The studio's table: map positions beside the codes (.csv or .npy).
        from aestudio.core.latent.export import write_table
        from aestudio.core.latent.map import build_map

        with bad_option():
            latent_map = build_map(codes, args.layout)
            write_table(out, codes, latent_map.positions, paths, labels)
        print(f"encoded {len(codes)} images with {latent_map.layout} map positions to {out}",
              file=sys.stderr)
        return 0
    if out.suffix == ".npz":
        def write(handle) -> None:
            np.savez(handle, codes=codes, paths=np.array(paths), labels=np.array(labels))
    else:
        def write(handle) -> None:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(["path", "label", *[f"z{i}" for i in range(codes.shape[1])]])
            for path, label, code in zip(paths, labels, codes, strict=True):
                writer.writerow([path, label, *[f"{v:.6g}" for v in code]])
            text.flush()
            text.detach()  # the atomic writer closes the handle itself
    # A temporary file renamed into place: a full disk never leaves half a CSV.
    atomic_write(out, write)
    print(f"encoded {len(codes)} images to {out}", file=sys.stderr)
    return 0


# Codes of trained models lie within a few units of zero; far beyond, float32 overflows.
_CODE_LIMIT = 1e6


def _parse_code(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ConfigError(f"--z must be numbers separated by commas; got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ConfigError(f"--z must be finite numbers; got {text!r}")
    if any(abs(v) > _CODE_LIMIT for v in values):
        raise ConfigError(f"--z values must be between -{_CODE_LIMIT:g} and {_CODE_LIMIT:g}; "
                          f"got {text!r}")
    return values


def cmd_decode(args: argparse.Namespace) -> int:
    """Decode the code given by ``--z`` to an image. Returns the exit status."""
    from aestudio.core.models.inference import decode

    code = _parse_code(args.z)
    out = checked_output(args.out, [args.model], overwrite=args.overwrite)
    loaded = load_model(args.model, args.device)
    need_autoencoder(loaded, "decode")
    with bad_option():
        image = decode(loaded.model, [code])[0]
    save_float_image(out, image)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    """Decode a path between the codes of two images as one PNG strip. Returns the exit status."""
    import numpy as np

    from aestudio.core.latent.interpolation import interpolate_images

    out = checked_output(args.out, [args.model, args.image_a, args.image_b],
                         overwrite=args.overwrite)
    loaded = load_model(args.model, args.device)
    need_autoencoder(loaded, "interpolate")
    first = read_for_model(Path(args.image_a), loaded)
    second = read_for_model(Path(args.image_b), loaded)
    with bad_option():
        frames, _ = interpolate_images(loaded.model, first, second, args.steps, args.mode)
    if out.suffix.lower() == ".gif":
        from aestudio.core.latent.export import save_gif

        save_gif(np.asarray(frames), out)
    else:
        strip = np.concatenate(list(frames), axis=1)
        save_float_image(out, strip)
    if args.frames:
        from aestudio.core.latent.export import save_frames

        save_frames(np.asarray(frames), args.frames)
        print(f"wrote each frame into {args.frames}", file=sys.stderr)
    print(f"wrote {args.steps} frames to {args.out}", file=sys.stderr)
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    """Encode a folder and draw its 2-D latent map as a labelled PNG. Returns the exit status."""
    from aestudio.core.latent.map import LAYOUT_NAMES, build_map
    from aestudio.core.latent.map_render import MIN_MAP_SIZE, render_map
    from aestudio.core.latent.scores import knn_label_accuracy

    if not MIN_MAP_SIZE <= args.size <= 8000:
        raise ConfigError(f"--size must be from {MIN_MAP_SIZE} to 8000 pixels; got {args.size}")
    out = checked_output(args.out, [args.model, args.data], overwrite=args.overwrite)
    loaded, data = encode_model_folder(args, "map")
    with bad_option():
        latent_map = build_map(data.codes, args.layout)
    note = f"{len(data):,} images\n{loaded.name}, {data.latent_dim}-number code"
    accuracy = None
    if len(data.label_names) > 1:
        accuracy = knn_label_accuracy(latent_map.positions, data.labels, 5)
        note += f"\n5-NN label accuracy {accuracy:.3f}"
    name = LAYOUT_NAMES[latent_map.layout]
    title = f"{Path(args.model).name}: {name} map of {Path(args.data).name}" + \
        ("" if latent_map.exact else " (approximate layout)")
    render_map(latent_map.positions, data.labels, out, size=args.size, title=title,
               axis_titles=latent_map.axis_titles(), note=note)
    if accuracy is not None:
        print(f"5-NN label accuracy of the map: {accuracy:.4f}", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0



def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "encode", cmd_encode, "write the latent code of every image in a folder")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="codes.csv or codes.npz (with --layout: "
                   "codes.csv or codes.npy)")
    p.add_argument("--layout", choices=["auto", "codes", "pca", "tsne", "umap"],
                   help="also write each image's 2-D map position (x, y), as the studio exports")
    overwrite_option(p)
    device_option(p)

    p = add_command(sub, "decode", cmd_decode, "decode one latent code to an image")
    p.add_argument("model")
    p.add_argument("--z", required=True, help="the code, e.g. 0.5,-1.2")
    p.add_argument("--out", required=True, help="image file to write")
    overwrite_option(p)
    device_option(p)

    p = add_command(sub, "interpolate", cmd_interpolate, "decode a path between two images as a strip")
    p.add_argument("model")
    p.add_argument("image_a")
    p.add_argument("image_b")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--mode", default="lerp", choices=["lerp", "slerp"])
    p.add_argument("--out", required=True, help="PNG strip, or an animated .gif, to write")
    p.add_argument("--frames", metavar="DIR", help="also write each frame as a PNG into DIR")
    overwrite_option(p)
    device_option(p)

    p = add_command(sub, "map", cmd_map, "draw the latent map of a folder as a labelled PNG",
            "Encode a folder and draw its 2-D latent map: a scatter coloured by label "
            "(colour-blind safe) with axis ticks and a legend.")
    p.add_argument("model")
    p.add_argument("data", help="folder of images (labels are subfolder names)")
    p.add_argument("--out", required=True, help="PNG to write")
    overwrite_option(p)
    p.add_argument("--layout", default="auto", choices=["auto", "codes", "pca", "tsne", "umap"],
                   help="auto: the codes themselves for a 2-number code, else PCA; tsne and "
                        "umap need scikit-learn or umap-learn")
    p.add_argument("--size", type=int, default=1200, help="image width in pixels")
    device_option(p)
