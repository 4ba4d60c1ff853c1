"""The one batch loop: per-file events, a bad file skipped, stop leaves no partial output."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.core.denoise.batch import OverwriteError, denoise_file, denoise_files, plan_outputs
from aestudio.core.errors import UserError
from aestudio.core.events import FileDone, FileProgress, FileStarted
from aestudio.core.facts import TEMP_SUFFIX
from aestudio.core.io.read import read_image
from aestudio.core.io.write import write_image
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import LoadedModel, load_model_file, save_model_file


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedModel:
    torch.manual_seed(0)
    model = create_model("denoiser", channels=1, width=8, depth=2)
    path = save_model_file(tmp_path / "model.aemodel", model,
                           train={"task": "denoise", "noise": "gaussian:25"})
    return load_model_file(path)


def _folder(tmp_path: Path, broken: str | None = None, size: int = 40) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for i, name in enumerate(("a.png", "b.png", "c.png")):
        path = folder / name
        if name == broken:
            path.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
        else:
            write_image(path, np.full((size, size + 8), 30 * i + 20, np.uint8))
        paths.append(path)
    return paths


def test_events_describe_each_file(tmp_path: Path, loaded: LoadedModel) -> None:
    sources = _folder(tmp_path)
    events: list[object] = []
    summary = denoise_files(loaded, sources, tmp_path / "out", on_event=events.append, tile=64)
    started = [e for e in events if isinstance(e, FileStarted)]
    done = [e for e in events if isinstance(e, FileDone)]
    assert [(e.index, e.total, e.path) for e in started] == [
        (i, 3, str(p)) for i, p in enumerate(sources)]
    assert [e.output for e in done] == [str(tmp_path / "out" / p.name) for p in sources]
    assert all(e.error is None and e.seconds >= 0 for e in done)
    progress = [e for e in events if isinstance(e, FileProgress)]
    assert progress and all(0 < e.done <= e.total for e in progress)
    # Each file's events come in order: started, progress, done.
    order = [(type(e).__name__, e.index) for e in events]
    assert order.index(("FileStarted", 1)) > order.index(("FileDone", 0))
    assert summary.written == [tmp_path / "out" / p.name for p in sources]
    assert not summary.failed and not summary.cancelled
    assert summary.describe().startswith("3 written")


def test_a_bad_file_is_skipped_and_the_rest_done(tmp_path: Path, loaded: LoadedModel) -> None:
    sources = _folder(tmp_path, broken="b.png")
    events: list[object] = []
    summary = denoise_files(loaded, sources, tmp_path / "out", on_event=events.append)
    done = [e for e in events if isinstance(e, FileDone)]
    assert [e.output is not None for e in done] == [True, False, True]
    assert done[1].error and "\n" not in done[1].error and done[1].path == str(sources[1])
    assert [p.name for p in summary.written] == ["a.png", "c.png"]
    assert summary.failed == [(sources[1], done[1].error)]
    assert not (tmp_path / "out" / "b.png").exists()
    assert "2 written, 1 failed" in summary.describe()
    for name in ("a.png", "c.png"):
        assert read_image(tmp_path / "out" / name)[0].shape == (40, 48, 1)


def test_stop_mid_folder_leaves_no_partial_output(tmp_path: Path, loaded: LoadedModel) -> None:
    sources = _folder(tmp_path, size=200)
    stop = threading.Event()

    def on_event(event: object) -> None:
        # Stop in the middle of the second file, between two of its tiles.
        if isinstance(event, FileProgress) and event.index == 1:
            stop.set()

    out = tmp_path / "out"
    summary = denoise_files(loaded, sources, out, tile=64, on_event=on_event, stop=stop)
    assert summary.cancelled and summary.not_started == 1
    assert summary.written == [out / "a.png"]
    left = sorted(p.name for p in out.iterdir())
    assert left == ["a.png", "a.png.json"]  # no b.png, no temporary file either
    assert not any(name.endswith(TEMP_SUFFIX) for name in left)


def test_stop_before_start_writes_nothing(tmp_path: Path, loaded: LoadedModel) -> None:
    stop = threading.Event()
    stop.set()
    summary = denoise_files(loaded, _folder(tmp_path), tmp_path / "out", stop=stop)
    assert summary.cancelled and summary.not_started == 3 and not summary.written


def test_outputs_never_replace_inputs(tmp_path: Path, loaded: LoadedModel) -> None:
    sources = _folder(tmp_path)
    folder = sources[0].parent
    targets = plan_outputs([(p, None) for p in sources], folder)
    assert [t.name for t in targets] == ["a-1.png", "b-1.png", "c-1.png"]
    same = plan_outputs([(sources[0], "x.png"), (sources[1], "x.png")], tmp_path / "out")
    assert [t.name for t in same] == ["x.png", "x-1.png"]
    with pytest.raises(OverwriteError) as info:
        denoise_file(loaded, sources[0], sources[0])
    assert isinstance(info.value, UserError)
