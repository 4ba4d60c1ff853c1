"""``aestudio info``: describe a model file."""

from __future__ import annotations

import argparse
import json

from aestudio.cli.options import add_command


def cmd_info(args: argparse.Namespace) -> int:
    """Describe a model file in words, or as JSON with ``--json``. Returns the exit status."""
    from aestudio.core.errors import ConfigError, ModelFileError
    from aestudio.core.models import make_config
    from aestudio.core.models.summary import read_model_meta, summarise_meta

    meta = read_model_meta(args.model)
    summary = summarise_meta(args.model, meta)
    try:  # a description no model can be built from is refused, as every command does
        make_config(summary.architecture, summary.model_config)
    except ConfigError as exc:
        raise ModelFileError(f"{summary.name}: cannot rebuild the model ({exc})") from None
    if args.json:
        print(json.dumps(meta, indent=2))
        return 0
    print("\n".join(summary.report_lines()))
    return 0



def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "info", cmd_info, "describe a model file")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="print the whole description as JSON")
