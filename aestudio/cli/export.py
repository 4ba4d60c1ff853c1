"""``aestudio export``: a denoiser as an ONNX graph, for image editors and other programs."""

from __future__ import annotations

import argparse
import sys

from aestudio.cli.common import checked_output, load_model
from aestudio.cli.options import add_command
from aestudio.core.models.onnx_export import DEFAULT_OPSET, INPUT_NAME, OUTPUT_NAME


def cmd_export(args: argparse.Namespace) -> int:
    """Write the model as an ONNX file that takes images of any size. Returns the exit status."""
    from aestudio.core.models.onnx_export import export_onnx

    out = checked_output(args.onnx, [args.model], overwrite=args.overwrite)
    loaded = load_model(args.model, "cpu")  # the graph is written from CPU weights anyway
    export_onnx(loaded.model, out, opset=args.opset)
    print(f"wrote {out}: '{INPUT_NAME}' float32 (N, {loaded.model.channels}, H, W) in [0, 1] "
          f"of any size -> '{OUTPUT_NAME}' denoised, same shape", file=sys.stderr)
    return 0


def add_parsers(sub) -> None:
    """Add the parsers of this module's commands to ``sub``."""
    p = add_command(sub, "export", cmd_export, "write a denoiser as an ONNX file",
                    "Write a denoiser model as an ONNX graph, for image editors and other "
                    "programs that run ONNX models: float32 images (N, C, H, W) in [0, 1] of "
                    "any size in, the denoised images of the same shape out. Needs the onnx "
                    "and onnxscript packages.")
    p.add_argument("model", help="the denoiser to export (anything aestudio denoise takes)")
    p.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                   help=f"ONNX operator set version (default: {DEFAULT_OPSET})")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --onnx file")
