"""Latent-map quality: 5-NN label accuracy of held-out images, PSNR over PCA-2, linear probe.

    python -m benchmarks.latent_quality --model M.aemodel --data FOLDER
    python -m benchmarks.latent_quality [--train-minutes 8] [--quick]

With a model file, the images are those of ``--data`` that the model held out for
validation (the split is rebuilt from the seed and share stored in the model file). With no
model, one is trained first: a conv-ae with a 2-number code on the MNIST training digits
(the shared data; a synthetic folder when absent), for ``--train-minutes``.

Figures:
- 5-NN label accuracy of the held-out images' 2-D map (codes, or PCA of longer codes),
  leave-one-out, against the same figure for PCA-2 of the raw pixels;
- mean PSNR of the model's reconstructions of the held-out images, against a PCA with two
  components fitted on the training images' pixels;
- the linear-probe accuracy of the held-out images' codes (a softmax regression fitted on
  80% of them, scored on the rest), against the same probe on their raw pixels. The goal
  (0.95) is for a 16-number code: ``--option latent_dim=16``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: the repository root is not on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SHARED_DATA, WORK, Figure, print_figures  # noqa: E402

# What a person gets from ``aestudio train FOLDER --latent-dim 2``: the defaults, nothing else.
# ``--option``, ``--batch-size`` and ``--lr`` add a tuned row (labelled as such).
TRAIN_OPTIONS: dict = {}
TRAIN_FLAGS: dict = {}


def mean_psnr(output: np.ndarray, target: np.ndarray) -> float:
    """Mean over images of 10 log10(1 / MSE), images flattened per row."""
    mse = np.square(output - target).reshape(len(target), -1).mean(axis=1)
    return float(np.mean(-10 * np.log10(np.maximum(mse, 1e-12))))


def evaluate(model_path: Path, folder: Path, k: int = 5) -> dict[str, float]:
    """The figures for one model file and its training folder."""
    import torch

    from aestudio.core.data.decode import decode_folder
    from aestudio.core.data.pca import fit_pca
    from aestudio.core.data.scan import scan_folder
    from aestudio.core.data.training_data import split_indices
    from aestudio.core.latent.codes import encode_images
    from aestudio.core.latent.map import build_map
    from aestudio.core.latent.scores import knn_label_accuracy
    from aestudio.core.models.modelfile import load_model_file

    loaded = load_model_file(model_path)
    model, meta = loaded.model, loaded.meta
    torch.manual_seed(0)
    scan = scan_folder(folder)
    decoded = decode_folder(scan, size=model.image_size, channels=model.channels)
    val_fraction = float(meta["data"]["config"]["val_fraction"])
    seed = int((meta.get("train") or {}).get("seed", 0))
    train_index, val_index = split_indices(len(decoded), val_fraction, seed)
    if len(val_index) == 0:
        raise SystemExit("the model held out no images (val_fraction 0)")
    scale = 65535.0 if decoded.bit_depth == 16 else 255.0
    images = np.asarray(decoded.images)
    labels = decoded.label_index[val_index]
    started = time.perf_counter()
    codes, _, _ = encode_images(model, images[val_index], scale)
    encode_s = time.perf_counter() - started
    latent_map = build_map(codes)
    accuracy = knn_label_accuracy(latent_map.positions, labels, k)
    held_out = images[val_index].astype(np.float32) / scale
    from aestudio.core.models.inference import decode

    recon = decode(model, codes).transpose(0, 3, 1, 2)
    model_psnr = mean_psnr(recon, held_out)
    # PCA-2 of the pixels, fitted on the training images.
    train_pixels = images[train_index].reshape(len(train_index), -1).astype(np.float32) / scale
    pca = fit_pca(train_pixels, 2)
    mean, comps = pca.mean.astype(np.float32), pca.components.astype(np.float32)
    flat = held_out.reshape(len(held_out), -1)
    projected = (flat - mean) @ comps.T
    pca_recon = np.clip(mean + projected @ comps, 0, 1)
    pca_psnr = mean_psnr(pca_recon, flat)
    pca_accuracy = knn_label_accuracy(projected, labels, k)
    from aestudio.core.latent.probe import linear_probe

    probe = linear_probe(codes, labels).accuracy
    pixel_probe = linear_probe(flat, labels).accuracy
    state = meta.get("training_state", {})
    return {"probe_accuracy": probe, "pixel_probe_accuracy": pixel_probe,
            "knn_accuracy": accuracy, "pca_knn_accuracy": pca_accuracy,
            "model_psnr": model_psnr, "pca_psnr": pca_psnr, "psnr_gain": model_psnr - pca_psnr,
            "n_val": float(len(val_index)), "latent_dim": float(model.latent_dim),
            "train_minutes": float(state.get("elapsed_s", 0.0)) / 60, "encode_s": encode_s,
            "steps": float(state.get("step", 0))}


def default_folder(quick: bool) -> Path:
    """All 60,000 MNIST training digits as a folder (made once); a small synthetic set when
    the shared data is absent or in quick mode."""
    from benchmarks.common import mnist_folder

    source = SHARED_DATA / "mnist" / "train.npz"
    if quick or not source.exists():
        return mnist_folder(2000)
    folder = WORK / "mnist-60000"
    if not (folder / ".complete").exists():
        mnist_folder(60000)
    return folder


def train(folder: Path, out: Path, minutes: float, options: dict | None = None,
          flags: dict | None = None, architecture: str = "conv-ae") -> None:
    """A conv-ae with a 2-number code, trained for ``minutes`` with the defaults
    (``options`` and ``flags`` override model options and training settings)."""
    from aestudio.core.config import DataConfig, TrainConfig
    from aestudio.core.training.trainer import TrainingJob, fit

    model_options = {"latent_dim": 2, **TRAIN_OPTIONS, **(options or {})}
    job = TrainingJob(model=architecture, model_options=model_options,
                      data=DataConfig(folder=str(folder), size=28),
                      train=TrainConfig(epochs=100_000, max_minutes=minutes,
                                        **{**TRAIN_FLAGS, **(flags or {})}),
                      out=out)
    result = fit(job)
    print(f"trained {result.step} steps: {result.message}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model file (default: train one)")
    parser.add_argument("--data", type=Path, help="the folder the model was trained on")
    parser.add_argument("--train-minutes", type=float, default=8.0)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a model option of the trained conv-ae (repeatable)")
    parser.add_argument("--architecture", default="conv-ae", help="the model to train")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--keep", type=Path, help="also save the trained model here")
    parser.add_argument("--quick", action="store_true", help="a few seconds, synthetic data")
    args = parser.parse_args()
    options = {k: float(v) if "." in v or "e" in v else int(v)
               for k, v in (item.split("=", 1) for item in args.option)}
    flags = {k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr)) if v}
    folder = args.data or default_folder(args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = Path(tmp) / "latent2.aemodel"
            train(folder, model, 0.1 if args.quick else args.train_minutes, options, flags,
                  args.architecture)
            if args.keep:
                args.keep.write_bytes(model.read_bytes())
        result = evaluate(model, folder)
    goal_acc = "n/a" if args.quick else ">= 0.9"
    tuned = (" (tuned: not the defaults)" if options or flags else " (the defaults)") + (
        f", {args.architecture}" if args.architecture != "conv-ae" else "")
    figures = {
        "latent_knn5_accuracy": Figure(result["knn_accuracy"], "fraction",
                                       f"PCA-2 of pixels: {result['pca_knn_accuracy']:.3f}",
                                       goal_acc,
                                       f"{int(result['n_val'])} held-out images, "
                                       f"{result['train_minutes']:.1f} min of training"
                                       + tuned),
        "latent_psnr_gain_over_pca2": Figure(result["psnr_gain"], "dB",
                                             f"PCA-2: {result['pca_psnr']:.2f} dB, model: "
                                             f"{result['model_psnr']:.2f} dB",
                                             "n/a" if args.quick else ">= 2"),
    }
    figures["latent_linear_probe_accuracy"] = Figure(
        result["probe_accuracy"], "fraction",
        f"raw pixels: {result['pixel_probe_accuracy']:.3f}",
        "n/a" if args.quick or result["latent_dim"] < 16 else ">= 0.95",
        f"softmax regression fitted on 80% of the held-out images' "
        f"{int(result['latent_dim'])}-number codes, scored on the rest" + tuned)
    print_figures(figures)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
