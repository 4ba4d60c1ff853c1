"""``aestudio anomalies`` and ``aestudio neighbours``: the latent explorer's rankings, headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aestudio.cli.common import checked_output, encode_model_folder
from aestudio.cli.options import add_command, device_option, overwrite_option
from aestudio.core.errors import ConfigError

LAYOUTS = ["auto", "codes", "pca", "tsne", "umap"]


def cmd_anomalies(args: argparse.Namespace) -> int:
    """Rank a folder's images by reconstruction error, worst first, into a CSV."""
    from aestudio.core.latent.export import write_anomalies
    from aestudio.core.latent.scores import ranked_by_error

    out = checked_output(args.out, [args.model, args.data], overwrite=args.overwrite)
    _, data = encode_model_folder(args, "anomalies")
    order = ranked_by_error(data.errors)
    write_anomalies(out, order, data.paths, data.labels, data.errors)
    for rank, i in enumerate(order[:args.show], start=1):
        print(f"{rank:>4}  {data.paths[i]}  error {float(data.errors[i]):.5f}")
    print(f"ranked {len(order)} images into {out}", file=sys.stderr)
    return 0


def cmd_neighbours(args: argparse.Namespace) -> int:
    """Print the images nearest to one image on the 2-D map of its folder."""
    from aestudio.core.latent.map import build_map

    if args.k < 1:
        raise ConfigError(f"-k must be at least 1; got {args.k}")
    _, data = encode_model_folder(args, "neighbours")
    root = Path(args.data).resolve()
    wanted = Path(args.image)
    try:
        relative = (wanted.resolve().relative_to(root) if wanted.is_absolute() or wanted.exists()
                    else wanted).as_posix()
    except ValueError:
        raise ConfigError(f"{args.image} is not inside {args.data}") from None
    if relative not in data.paths:
        raise ConfigError(f"{args.image} is not one of the images read from {args.data}")
    index = data.paths.index(relative)
    latent_map = build_map(data.codes, args.layout)
    found, distances = latent_map.nearest(latent_map.positions[index], args.k + 1)
    shown = [(int(i), float(d)) for i, d in zip(found, distances, strict=True)
             if int(i) != index][:args.k]
    print(f"nearest to {relative} ({data.labels[index] or 'no label'}) on the "
          f"{latent_map.layout} map:")
    for i, distance in shown:
        print(f"  {data.paths[i]}  label {data.labels[i] or '-'}  distance {distance:.4f}")
    return 0


def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "anomalies", cmd_anomalies,
                    "rank a folder's images by reconstruction error, worst first")
    p.add_argument("model")
    p.add_argument("data", help="folder of images")
    p.add_argument("--out", required=True, help="CSV to write: rank, path, label, mse, psnr_db")
    p.add_argument("--show", type=int, default=10, help="also print the first N (default 10)")
    overwrite_option(p)
    device_option(p)

    p = add_command(sub, "neighbours", cmd_neighbours,
                    "list the images nearest to one image on the latent map")
    p.add_argument("model")
    p.add_argument("data", help="folder of images")
    p.add_argument("image", help="an image of that folder (its path, or relative to it)")
    p.add_argument("-k", type=int, default=8, help="how many neighbours (default 8)")
    p.add_argument("--layout", default="auto", choices=LAYOUTS,
                   help="auto: the codes themselves for a 2-number code, else PCA")
    device_option(p)
