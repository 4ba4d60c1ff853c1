"""The latent explorer at 60,000 points: first draw, pan/zoom frames, click to image.

    python -m benchmarks.latent_map [--quick] [--model M.aemodel] [--points 60000]

Offscreen Qt. A frame is ``setRange`` on the view box and ``processEvents`` (which paints
the window once); a second figure adds a forced repaint (``grab()`` of the plot, a second
full paint). A click is ``click_at`` (the same handler a mouse click
reaches) until the decoded image, decoded in a worker thread, is painted. Full mode uses the MNIST training digits and
their labels (with ``--model``, their real codes; otherwise an untrained conv-ae with a
2-number code, whose decode time is that of the default model); quick mode and a missing
data folder use synthetic codes. Goals: frame <= 33 ms, click <= 30 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

if __package__ in (None, ""):  # run as a script: the repository root is not on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import SHARED_DATA, Figure, print_figures  # noqa: E402


def synthetic(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clustered 2-D codes, labels and 28 x 28 images (uint8, (N, 1, 28, 28))."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)
    angles = labels * (2 * np.pi / 10)
    centres = np.column_stack([np.cos(angles), np.sin(angles)]) * 3
    codes = (centres + rng.normal(size=(n, 2)) * 0.7).astype(np.float32)
    images = np.zeros((n, 1, 28, 28), np.uint8)
    images[np.arange(n), 0, 4 + labels, 6:22] = 230
    return codes, labels, images


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="synthetic codes, a few seconds")
    parser.add_argument("--model", help="model file with a 2-number code (full mode)")
    parser.add_argument("--points", type=int, default=60_000)
    args = parser.parse_args()

    import torch
    from PySide6.QtWidgets import QApplication

    from aestudio.core.latent.codes import FolderCodes, encode_images
    from aestudio.core.latent.decoding import measure_decode_ms
    from aestudio.core.models import create_model
    from aestudio.core.models.modelfile import load_model_file
    from aestudio.ui.common.workers import WorkerPool
    from aestudio.ui.latent.explorer import LatentExplorer

    app = QApplication.instance() or QApplication([])
    torch.manual_seed(0)
    n = args.points
    source = SHARED_DATA / "mnist" / "train.npz"
    if args.model:
        model = load_model_file(args.model).model
    else:
        model = create_model("conv-ae", channels=1, image_size=28, latent_dim=2).eval()
    if args.quick or not source.exists():
        kind = "synthetic"
        codes, labels, images = synthetic(n)
        errors = np.random.default_rng(1).random(n).astype(np.float32)
    else:
        kind = "mnist"
        data = np.load(source)
        images = data["images"][:n, None]
        labels = data["labels"][:n]
        codes, errors, _ = encode_images(model, images, 255.0)
        if not args.model:  # an untrained model's codes are one blob: spread them out
            codes = synthetic(n)[0]
    folder = FolderCodes(codes=codes, images=images, scale=255.0,
                         paths=tuple(f"{label}/{i}.png" for i, label in enumerate(labels)),
                         labels=tuple(str(v) for v in labels), errors=errors)
    pool = WorkerPool()
    explorer = LatentExplorer(pool)
    explorer.resize(1400, 900)
    explorer.show()
    app.processEvents()
    plot = explorer.map_view.plot

    decode_ms = measure_decode_ms(model)  # measured apart from the first draw
    start = time.perf_counter()
    explorer.set_encoded(model, folder, decode_ms=decode_ms)
    app.processEvents()
    plot.grab()
    first_draw_ms = (time.perf_counter() - start) * 1000
    while explorer.is_busy():  # the neighbour-accuracy job runs once after a new layout
        app.processEvents()

    vb = explorer.map_view.view_box
    (x0, x1), (y0, y1) = vb.viewRange()
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    frames = 30 if args.quick else 120
    def frames_ms(grab: bool) -> np.ndarray:
        """Pan and zoom around the whole map; ``grab`` forces a second, offscreen paint."""
        times = []
        for i in range(frames):
            zoom = 1.0 - 0.5 * (0.5 + 0.5 * np.sin(i / 7))
            dx, dy = 0.2 * w * np.sin(i / 5), 0.2 * h * np.cos(i / 6)
            t = time.perf_counter()
            vb.setRange(xRange=(cx + dx - zoom * w / 2, cx + dx + zoom * w / 2),
                        yRange=(cy + dy - zoom * h / 2, cy + dy + zoom * h / 2), padding=0)
            app.processEvents()  # paints the window once, as a screen would
            if grab:
                plot.grab()
            times.append((time.perf_counter() - t) * 1000)
        return np.array(times[2:])

    frame = frames_ms(grab=False)
    frame_grab = frames_ms(grab=True)
    vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    clicks = []
    rng = np.random.default_rng(2)
    for _ in range(20 if args.quick else 60):
        (a0, a1), (b0, b1) = vb.viewRange()
        x, y = rng.uniform(a0, a1), rng.uniform(b0, b1)
        before = explorer.decoded_image()
        t = time.perf_counter()
        explorer.click_at(x, y)
        while explorer.decoded_image() is before:
            app.processEvents()
        app.processEvents()
        explorer.decoded_pane.repaint()
        clicks.append((time.perf_counter() - t) * 1000)
        while explorer.is_busy():
            app.processEvents()
    click = np.array(clicks[1:])
    explorer.shutdown()
    pool.stop_all(10_000)

    note = (f"{n:,} {kind} points, decoded in a worker ({explorer.decode_ms:.1f} ms each), "
            "1400x900 window")
    figures = {
        "latent_map_first_draw": Figure(first_draw_ms, "ms", note=note),
        "latent_map_frame_mean": Figure(float(frame.mean()), "ms", goal="<= 33",
                                        note="setRange + processEvents (one paint)"),
        "latent_map_frame_p95": Figure(float(np.percentile(frame, 95)), "ms", goal="<= 33"),
        "latent_map_frame_grab_mean": Figure(float(frame_grab.mean()), "ms", goal="<= 33",
                                             note="setRange + processEvents + grab() "
                                                  "(two paints)"),
        "latent_map_click_mean": Figure(float(click.mean()), "ms", goal="<= 30", note=note),
        "latent_map_click_p95": Figure(float(np.percentile(click, 95)), "ms", goal="<= 30"),
    }
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
