"""``aestudio info``: describe a model file."""

from __future__ import annotations

import argparse
import json

from aestudio.cli.options import add_command


def cmd_info(args: argparse.Namespace) -> int:
    """Describe a model file in words, or as JSON with ``--json``. Returns the exit status."""
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



def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "info", cmd_info, "describe a model file")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="print the whole description as JSON")
