"""The preview's region planner and the preview job: the shown part first, no seams."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.core.denoise.apply import denoise_array
from aestudio.core.denoise.preview import AllDone, NoisyReady, RegionDone, denoise_preview
from aestudio.core.denoise.regions import (
    Focus,
    context_margin,
    focus_order,
    next_region,
    plan_regions,
)
from aestudio.core.io.convert import from_float
from aestudio.core.models import create_model


def test_region_plan_covers_the_image_once() -> None:
    regions = plan_regions(70, 100, 32, 32, 8)
    cover = np.zeros((70, 100), int)
    for r in regions:
        cover[r.y:r.y + r.h, r.x:r.x + r.w] += 1
        x0, y0, x1, y1 = r.context
        assert x0 % 8 == 0 and y0 % 8 == 0
        assert x0 <= r.x and x1 >= r.x + r.w and y0 <= r.y and y1 >= r.y + r.h
        assert x0 >= 0 and y0 >= 0 and x1 <= 100 and y1 <= 70
    assert (cover == 1).all()
    assert [r.index for r in regions] == list(range(len(regions)))


def test_contexts_have_few_shapes_and_full_margins() -> None:
    regions = plan_regions(300, 420, 64, 32, 8)
    shapes = {(r.context[2] - r.context[0], r.context[3] - r.context[1]) for r in regions}
    assert len(shapes) <= 4  # interior, right border, bottom border, corner
    for r in regions:
        x0, y0, x1, y1 = r.context
        assert r.x - x0 >= 32 or x0 == 0
        assert x1 - (r.x + r.w) >= 32 or x1 == 420


def test_visible_regions_come_first_nearest_the_centre() -> None:
    regions = plan_regions(70, 100, 32, 32, 8)
    first = next_region(regions, (60.0, 40.0, 100.0, 70.0))
    assert first.x <= 80 < first.x + first.w and first.y <= 55 < first.y + first.h
    order = focus_order(regions, (0.0, 0.0, 30.0, 30.0))
    visible = [r for r in order if r.x < 30 and r.y < 30]
    assert order[:len(visible)] == visible
    assert focus_order(regions, None) == regions


def test_focus_is_shared_between_threads() -> None:
    focus = Focus()
    assert focus.get() is None
    thread = threading.Thread(target=focus.set, args=(1.0, 2.0, 3.0, 4.0))
    thread.start()
    thread.join()
    assert focus.get() == (1.0, 2.0, 3.0, 4.0)


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model("denoiser", channels=3, width=8, depth=2)
    with torch.no_grad():
        for p in model.net.out.parameters():
            p.normal_(0.0, 0.05)
    return model.eval()


class _Loaded:
    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model


def test_margin_covers_the_reach(model: torch.nn.Module) -> None:
    margin, align = context_margin(model)
    assert margin >= max(32, model.reach) and margin % align == 0 and align % 8 == 0


def test_preview_equals_the_whole_image_and_starts_where_shown(model, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 160, 3), dtype=np.uint8)
    focus = Focus()
    focus.set(120.0, 100.0, 160.0, 128.0)
    events: list[object] = []
    done = denoise_preview(_Loaded(model), image, on_event=events.append, generation=3,
                           focus=focus, region_size=32)
    assert isinstance(events[0], NoisyReady) and isinstance(events[-1], AllDone)
    assert done is events[-1] and all(e.generation == 3 for e in events)
    parts = [e for e in events if isinstance(e, RegionDone)]
    assert len(parts) == len(events[0].regions) > 1
    first = parts[0].region
    assert first.x <= 140 < first.x + first.w and first.y <= 114 < first.y + first.h
    result = np.zeros(image.shape, np.float32)
    for e in parts:
        r = e.region
        result[r.y:r.y + r.h, r.x:r.x + r.w] = e.pixels
    diff = from_float(result, np.uint8).astype(int) - denoise_array(model, image).astype(int)
    assert np.abs(diff).max() <= 1


def test_preview_stops_and_adds_seeded_noise(model) -> None:
    image = np.full((64, 64, 3), 128, np.uint8)
    stop = threading.Event()
    events: list[object] = []

    def on_event(event: object) -> None:
        events.append(event)
        stop.set()

    assert denoise_preview(_Loaded(model), image, on_event=on_event, stop=stop,
                           noise="gaussian:25", seed=7, region_size=32) is None
    ready = events[0]
    assert isinstance(ready, NoisyReady) and ready.reference is not None
    assert not np.array_equal(ready.noisy, ready.reference)
    assert not any(isinstance(e, AllDone) for e in events)
    again: list[object] = []
    denoise_preview(None, image, on_event=again.append, noise="gaussian:25", seed=7)
    assert np.array_equal(again[0].noisy, ready.noisy) and again[0].regions == ()
