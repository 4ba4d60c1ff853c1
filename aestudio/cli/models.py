"""``aestudio info`` and ``aestudio models``: describe a model file, list the bundled ones."""

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

def cmd_models(args: argparse.Namespace) -> int:
    """List the models that ship with aestudio, one line each. Returns the exit status."""
    from aestudio.core.models.bundled import bundled_models
    from aestudio.core.models.summary import read_model_summary

    models = bundled_models()
    if args.json:
        print(json.dumps([{"name": m.name, "path": str(m.path), "description": m.description}
                          for m in models], indent=2))
        return 0
    if not models:
        print("no bundled models in this installation")
        return 0
    for model in models:
        summary = read_model_summary(model.path)
        size = model.path.stat().st_size / 1e6
        print(f"{model.name:<8} {summary.architecture}, {summary.channels} channel(s), "
              f"{size:.1f} MB: {model.description}")
    print("Use a name wherever a model file is accepted, e.g. "
          "aestudio denoise photo IMAGE... --out DIR")
    return 0


def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "info", cmd_info, "describe a model file")
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="print the whole description as JSON")
    p = add_command(sub, "models", cmd_models, "list the models that ship with aestudio")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
