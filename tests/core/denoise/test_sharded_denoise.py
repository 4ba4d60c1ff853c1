"""A batch shared among the processes of a torchrun job: each file once, one report."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.cli import main
from aestudio.core.denoise.batch import BatchSummary
from aestudio.core.denoise.sharding import denoise_shard, merge_summaries, shard_indices
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import load_model_file, save_model_file
from aestudio.core.runtime.distributed import DistContext


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_every_file_goes_to_exactly_one_rank(world_size: int) -> None:
    for count in range(10):
        files = [Path(f"in/{name:03d}.png") for name in range(count)]
        shards = [shard_indices(files, rank, world_size) for rank in range(world_size)]
        taken = sorted(i for shard in shards for i in shard)
        assert taken == list(range(count))
        # Balanced: no rank has more than one file more than another.
        sizes = [len(shard) for shard in shards]
        assert max(sizes) - min(sizes) <= 1
        # The split follows the paths, not the order they were listed in.
        shuffled = files[:]
        random.Random(count).shuffle(shuffled)
        for rank, shard in enumerate(shards):
            again = shard_indices(shuffled, rank, world_size)
            assert sorted(shuffled[i] for i in again) == sorted(files[i] for i in shard)


def test_a_rank_outside_the_job_is_refused() -> None:
    with pytest.raises(ValueError):
        shard_indices([Path("a.png")], 2, 2)
    with pytest.raises(ValueError):
        shard_indices([Path("a.png")], 0, 0)


def test_merged_summaries_follow_the_batch_order(tmp_path: Path) -> None:
    order = [Path(name) for name in ("a.png", "b.png", "c.png", "d.png")]
    even = BatchSummary(tmp_path, done=[(order[2], tmp_path / "c.png")],
                        failed=[(order[0], "broken")], seconds=2.0)
    odd = BatchSummary(tmp_path, done=[(order[3], tmp_path / "d.png"),
                                       (order[1], tmp_path / "b.png")], seconds=3.0)
    merged = merge_summaries([odd, even], order)
    assert [source for source, _ in merged.done] == order[1:]
    assert merged.failed == [(order[0], "broken")] and merged.seconds == 3.0


def _model(path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("denoiser", channels=3, width=8, depth=2)
    return save_model_file(path, model, train={"task": "denoise", "noise": "gaussian:25"})


def _photos(root: Path) -> list[Path]:
    """Six small RGB images (one in a subfolder, one named like another) and a broken one."""
    rng = np.random.default_rng(0)
    paths = [root / "in" / f"p{i}.png" for i in range(4)]
    paths += [root / "in" / "sub" / "p4.png", root / "other" / "p0.png"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    (root / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return paths


def test_one_process_shard_is_the_whole_batch(tmp_path: Path) -> None:
    loaded = load_model_file(_model(tmp_path / "d.aemodel"))
    sources = _photos(tmp_path)
    summary = denoise_shard(loaded, sources, tmp_path / "out", DistContext(), tile=64)
    assert [source for source, _ in summary.done] == sources
    # Two sources named p0.png: numbered as one process numbers them.
    assert summary.written[-1] == tmp_path / "out" / "p0-1.png"


def _torchrun() -> list[str] | None:
    """The torchrun of this environment (beside its Python, or on PATH)."""
    beside = Path(sys.executable).with_name("torchrun")
    found = str(beside) if beside.exists() else shutil.which("torchrun")
    return [found] if found else None


def test_torchrun_two_processes_share_one_folder(tmp_path: Path, capsys) -> None:
    torchrun = _torchrun()
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    model = _model(tmp_path / "d.aemodel")
    sources = _photos(tmp_path)
    inputs = [str(tmp_path / "in"), str(tmp_path / "other" / "p0.png")]

    capsys.readouterr()
    alone = main(["denoise", str(model), *inputs, "--out", str(tmp_path / "alone"),
                  "--device", "cpu"])
    report = capsys.readouterr().err.replace(str(tmp_path / "alone"), str(tmp_path / "out"))
    assert alone == 3  # some files skipped, the others written

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([*torchrun, "--standalone", "--nproc_per_node", "2", "-m",
                          "aestudio", "denoise", str(model), *inputs,
                          "--out", str(tmp_path / "out"), "--device", "cpu"],
                         capture_output=True, text=True, timeout=120, env=env)
    out = tmp_path / "out"
    written = sorted(p.relative_to(out) for p in out.rglob("*.png"))
    assert written == sorted(p.relative_to(tmp_path / "alone")
                             for p in (tmp_path / "alone").rglob("*.png"))
    assert len(written) == len(sources)
    assert not [p for p in out.rglob("*") if p.name.endswith(".aestudio-tmp")]
    # Rank 0 alone prints the whole batch's report, the same lines as one process.
    assert run.stderr.count("broken.png") == 1
    assert run.stderr.count(" -> ") == len(sources)
    assert report in run.stderr
    # torchrun turns any non-zero status of a process into its own failure (status 1);
    # rank 0 exited with the single-process status, the other rank with 0.
    assert run.returncode == 1, run.stderr[-3000:]
    assert re.search(r"rank\s*: 0 \(local_rank: 0\)\s+exitcode\s*: 3\b", run.stderr)
    assert not re.search(r"rank\s*: 1 \(local_rank: 1\)\s+exitcode\s*: [1-9]", run.stderr)
