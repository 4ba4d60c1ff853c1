"""Retake the README's screenshots of the bundled denoiser and of the latent explorer.

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py [--model build/digits2d.aemodel]

- ``docs/images/denoise_bundled.png``: the Denoise tab of a fresh studio on the demo photo of
  a cat with camera noise added, denoised by the bundled ``photo`` model.
- ``docs/images/latent_point.png``: the latent map of the 60,000 MNIST digits (the folder
  ``benchmarks.common.mnist_folder`` writes) with a clicked point and an interpolation from a
  0 to a 7, for the model ``python -m benchmarks.latent_quality --keep MODEL`` trains with the
  defaults (about 8 minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
IMAGES = ROOT / "docs" / "images"
SIZE = (1600, 1000)


def wait(app, predicate, what: str, limit_s: float = 120.0) -> None:
    """Run the event loop until ``predicate()`` holds."""
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > limit_s:
            raise SystemExit(f"screenshots: gave up waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.5) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "build" / "digits2d.aemodel")
    args = parser.parse_args()

    from aestudio.resources import demo_folder
    from aestudio.ui.app import make_application
    from aestudio.ui.main_window import MainWindow
    from benchmarks.common import mnist_folder

    app = make_application()
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    wait(app, window.is_ready, "the window")
    window.start_warm_up()

    view = window.compare_view
    window.tabs.setCurrentWidget(view)
    wait(app, lambda: view.loaded is not None, "the bundled model")
    view.set_noise("camera:1.5", seed=0)
    view.open_image(str(demo_folder("photos") / "chelsea.png"))
    wait(app, view.is_complete, "the photo to be denoised")
    wait(app, lambda: window.device_name is not None, "the device name")
    wait(app, lambda: bool(view.scores), "PSNR and SSIM")
    settle(app)
    window.grab().save(str(IMAGES / "denoise_bundled.png"))

    if args.model.is_file():
        explorer = window.latent_explorer
        opened: list[str] = []
        window.folder_opened.connect(opened.append)
        window.open_folder(mnist_folder(60_000))
        wait(app, lambda: bool(opened), "the digits to be scanned", 300)
        window.open_model(args.model)
        window.tabs.setCurrentWidget(explorer)
        wait(app, lambda: explorer.latent_map is not None and not explorer.is_busy(),
             "the map", 600)
        codes = explorer.shown_codes()[0]
        first = {label: codes.labels.index(label) for label in ("0", "3", "7")}
        explorer.select_point(first["3"])
        positions = explorer.latent_map.positions
        explorer.interpolate_between(tuple(positions[first["0"]]), tuple(positions[first["7"]]))
        wait(app, lambda: explorer.interpolation_frames() is not None
             and not explorer.is_busy(), "the interpolation")
        settle(app, 1.0)
        window.grab().save(str(IMAGES / "latent_point.png"))
    else:
        print(f"screenshots: {args.model} is absent; the latent map was not retaken",
              file=sys.stderr)
    window.close()
    window.wait_for_jobs()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
