"""Exporting a denoiser as an ONNX graph, for image editors and other programs.

The graph takes float32 images ``(N, C, H, W)`` in ``[0, 1]`` of any batch size, height and
width, and returns the denoised images of the same shape. torch's exporter needs the
``onnx`` and ``onnxscript`` packages; they are imported only when a model is exported.

Torch-free to import, so that the command line's parser can read the defaults.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from aestudio import __version__
from aestudio.core.config import to_dict
from aestudio.core.errors import ConfigError, UserError
from aestudio.core.io.atomic import atomic_write_bytes
from aestudio.core.io.outputs import check_output_file

if TYPE_CHECKING:
    import torch

    from aestudio.core.models.base import ImageModel

__all__ = ["DEFAULT_OPSET", "INPUT_NAME", "MIN_OPSET", "OUTPUT_NAME", "export_onnx"]

INPUT_NAME = "input"
OUTPUT_NAME = "output"
DEFAULT_OPSET = 18
MIN_OPSET = 18  # torch's exporter writes 18 and converts up; converting down may fail
_MISSING_EXPORTER = ("ONNX export needs the onnx and onnxscript packages "
                     "(pip install onnx onnxscript)")


def _newest_opset() -> int:
    """The newest opset the installed ``onnx`` knows; :class:`UserError` when the packages
    torch's exporter imports are missing."""
    try:
        import onnx
        import onnxscript  # noqa: F401
    except ImportError:
        raise UserError(_MISSING_EXPORTER) from None
    return int(onnx.defs.onnx_opset_version())


def _example_input(model: ImageModel) -> torch.Tensor:
    import torch

    # Batch 2 and unequal sides that are no multiple of the grid: the exporter fixes any
    # size that is 0 or 1 in the example, and this one takes the padding path.
    side = model.size_multiple * 2 + 3
    seeded = torch.Generator().manual_seed(0)  # the caller's random stream is left alone
    return torch.rand(2, model.channels, side, side + 2, generator=seeded)


def _metadata(model: ImageModel) -> dict[str, str]:
    """What a program loading the graph needs to know, as ONNX metadata properties."""
    colours = "RGB" if model.channels == 3 else "gray"
    return {
        "aestudio.version": __version__,
        "aestudio.architecture": model.registry_name,
        "aestudio.model_config": json.dumps(to_dict(model.config)),
        "input": f"{INPUT_NAME}: float32 (N, {model.channels}, H, W), {colours}, in [0, 1]",
        "output": f"{OUTPUT_NAME}: the denoised images, same shape and range",
    }


def export_onnx(model: ImageModel, path: str | os.PathLike, *,
                opset: int = DEFAULT_OPSET) -> Path:
    """Write ``model`` as an ONNX graph that denoises images of any size.

    The model is copied to the CPU in float32 and eval mode; the caller's model is left as
    it was. The file is written atomically: a failed export leaves nothing under ``path``.

    Parameters
    ----------
    model : ImageModel
        A ``denoiser`` model. Autoencoders, which take one fixed image size, are refused.
    path : path-like
        The ``.onnx`` file to write; its folder is created, an existing file replaced.
    opset : int
        The ONNX operator set version: from :data:`MIN_OPSET` to the newest the installed
        ``onnx`` package knows.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    UserError
        The model is not a denoiser, the packages torch's exporter needs are missing, or
        the exporter could not write ``opset``.
    ConfigError
        ``opset`` is out of range.
    OSError
        ``path`` cannot be written (read-only, full, permission denied).
    """
    if model.kind != "denoiser":
        size = model.image_size
        raise UserError(f"{model.registry_name} is an autoencoder for {size} x {size} images; "
                        "only denoiser models can be exported to ONNX")
    newest = _newest_opset()
    if not MIN_OPSET <= opset <= newest:
        raise ConfigError(f"opset must be from {MIN_OPSET} to {newest}; got {opset}")
    import torch

    from aestudio.core.models.denoiser import graph_capture

    target = check_output_file(path)  # before the export, which takes seconds
    # A fresh CPU copy: the caller's model keeps its device, precision and mode.
    graph_model = type(model)(model.config)
    graph_model.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
    graph_model.float().eval()
    example = _example_input(graph_model)
    dims = {0: torch.export.Dim("batch", min=1), 2: torch.export.Dim("height", min=1),
            3: torch.export.Dim("width", min=1)}
    with torch.no_grad(), graph_capture():
        program = torch.onnx.export(
            graph_model, (example,), dynamo=True, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_shapes=(dims,), verbose=False,
        )
    written = program.model.opset_imports.get("")
    if written != opset:  # the exporter converts to other opsets, and may fail quietly
        raise UserError(f"the exporter could not write opset {opset} (it wrote {written}); "
                        f"try opset {DEFAULT_OPSET}")
    program.model.metadata_props.update(_metadata(graph_model))
    # One self-contained file (no external weights beside it), written whole or not at all.
    atomic_write_bytes(target, program.model_proto.SerializeToString())
    return target
