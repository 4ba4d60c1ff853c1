"""``kill -9`` of real ``aestudio`` processes at the moments that matter.

A training run killed while a checkpoint is being written, a run with ``--overwrite`` killed
before its first step, at a random moment or stopped by SIGTERM, ``encode`` killed while it
writes its codes over an older file, and a batch ``denoise`` killed part-way. To land a kill
inside a write, the output folder is polled every 2 ms; when a temporary file of the atomic
writer shows up the process is frozen (SIGSTOP), and killed only if the temporary is still
there, so that the kill lands between the first byte and the rename. A moment the job
outran is tried again on a bigger job, never skipped.

After each kill every file under a final name is whole and valid, a file that existed before
is unchanged or replaced by a valid new one, and the next run of the same command succeeds
and leaves no temporary file (a killed writer's temporary is removed once it is stale, after
6 hours: the tests age it instead of waiting).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.core.models import create_model
from aestudio.core.models.modelfile import load_model_file, save_model_file
from tests.conftest import make_digit_folder
from tests.faults.conftest import is_temporary, note_data_lost, note_traceback, run_cli

#: A conv-ae whose model file (weights and Adam state) is about 6 MB: a save lasts long
#: enough to be caught, and a step is still a few milliseconds.
HIDDEN = 1024
TRAIN = ["--model", "conv-ae", "--latent-dim", "2", "--option", "width=4",
         "--option", f"hidden={HIDDEN}", "--option", "depth=1", "--size", "16",
         "--device", "cpu", "--batch-size", "8", "--checkpoint-minutes", "0.001"]
POLL_S = 0.002
DEADLINE_S = 90.0
#: A killed writer's temporary counts as stale after this long (atomic._STALE_SECONDS).
STALE_AGE_S = 7 * 3600


# --- a real aestudio process ----------------------------------------------------------------

class Job:
    """``aestudio ARGV`` in a child process, its stderr read line by line as it comes."""

    def __init__(self, argv: list[object], cache: Path) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "AESTUDIO_CACHE_DIR": str(cache),
               "PYTHONUNBUFFERED": "1"}
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen([sys.executable, "-m", "aestudio", *self.argv], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.append(line)

    @property
    def err(self) -> str:
        return "".join(self._lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def poll_until(self, condition: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
        """Check ``condition`` every 2 ms while the process runs; False if it ended first."""
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(POLL_S)
        return False

    def handles_sigterm(self) -> bool:
        """True once the process installed its own SIGTERM handler (its ``SigCgt`` mask)."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
        except OSError:
            pass
        return False

    def _state(self) -> str:
        try:
            with open(f"/proc/{self.proc.pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return "gone"

    def freeze(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while self._state() not in ("T", "t", "Z", "gone") and time.monotonic() < deadline:
            time.sleep(0.0005)

    def thaw(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        self.proc.kill()
        self.finish()

    def finish(self, timeout: float = DEADLINE_S) -> int:
        status = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        if "Traceback (most recent call last)" in self.err:
            note_traceback()
        return status

    def kill_during_write(self, folder: Path, *, ready: Callable[[], bool] = lambda: True,
                          nonempty: bool = False) -> list[Path]:
        """SIGKILL while a temporary of ours is in ``folder`` (once ``ready()``).

        Returns the temporaries present at the kill; an empty list when the job ended first.
        """
        def writing() -> bool:
            return ready() and bool(_temporaries(folder, nonempty=nonempty))

        while self.poll_until(writing):
            self.freeze()
            present = _temporaries(folder, nonempty=nonempty)
            if present and self.alive():
                self.kill()
                return present
            self.thaw()  # renamed between the look and the freeze: wait for the next write
        return []


@pytest.fixture
def jobs() -> Iterator[list[Job]]:
    """The test's processes, killed at the end whatever happened."""
    started: list[Job] = []
    yield started
    for job in started:
        if job.alive():
            job.proc.kill()  # SIGKILL ends a stopped process too
            job.proc.wait(timeout=30)


# --- what a folder holds ----------------------------------------------------------------------

def _temporaries(folder: Path, *, nonempty: bool = False) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if not is_temporary(path):
            continue
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        if size > 0 or not nonempty:
            found.append(path)
    return found


def _finals(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not is_temporary(p))


def _age(paths: list[Path]) -> None:
    """Make a killed writer's temporaries as old as stale ones are."""
    old = time.time() - STALE_AGE_S
    for path in paths:
        os.utime(path, (old, old))


def _assert_no_temporaries(folder: Path) -> None:
    left = _temporaries(folder)
    if left:
        note_data_lost()
    assert left == [], left


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _valid_model(path: Path):
    try:
        loaded = load_model_file(path)
    except Exception:
        note_data_lost()
        raise
    assert loaded.model.kind == "autoencoder"
    return loaded


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["path", "label"], rows[0]
    assert all(len(row) == len(rows[0]) for row in rows), "a row of the wrong length"
    return rows[1:]


def _valid_codes(path: Path, images: int) -> None:
    if path.suffix == ".npz":
        with np.load(path) as codes:
            assert codes["codes"].shape == (images, 2) and len(codes["paths"]) == images
    else:
        assert len(_csv_rows(path)) == images


def _assert_valid_image(path: Path, size: tuple[int, int]) -> None:
    try:
        with Image.open(path) as image:
            image.load()
            assert image.size == size, (path, image.size, size)
    except Exception:
        note_data_lost()
        raise


# --- inputs -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_digit_folder(tmp_path_factory.mktemp("kill") / "digits", per_label=20)


def _good_model(path: Path) -> str:
    """An existing model file of the same architecture; returns its digest."""
    torch.manual_seed(1)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4,
                         hidden=HIDDEN, depth=1)
    save_model_file(path, model.eval())
    return _digest(path)


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4,
                         hidden=16, depth=1)
    return save_model_file(tmp_path_factory.mktemp("kill-ae") / "ae.aemodel", model.eval())


@pytest.fixture(scope="module")
def denoiser(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = create_model("denoiser", channels=3, width=8, depth=1)
    return save_model_file(tmp_path_factory.mktemp("kill-dn") / "d.aemodel", model.eval())


def _photos(root: Path, count: int, side: int) -> dict[str, tuple[int, int]]:
    """``count`` RGB noise images of about ``side`` pixels; returns name -> (width, height)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(3)
    sizes = {}
    for i in range(count):
        h, w = side + i, side + 32
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / f"p{i:02d}.png")
        sizes[f"p{i:02d}.png"] = (w, h)
    return sizes


# --- training ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_kill_while_a_checkpoint_is_written_keeps_the_previous_one(
        digits: Path, tmp_path: Path, jobs: list[Job], capsys) -> None:
    out = tmp_path / "run"
    model = out / "m.aemodel"
    for epochs in (4, 16, 64):  # a bigger job when the moment was missed
        out.mkdir(exist_ok=True)
        for path in out.iterdir():
            path.unlink()
        argv = ["train", digits, "--out", model, *TRAIN, "--epochs", str(epochs)]
        job = Job(argv, tmp_path / "cache")
        jobs.append(job)
        left = job.kill_during_write(out, ready=model.exists)
        if left:
            break
        job.finish()
    else:
        pytest.fail("every run finished before a second checkpoint was caught being written")
    assert job.proc.returncode == -signal.SIGKILL
    # The first checkpoint is whole under its name; the half-written one is only a temporary.
    assert _finals(out) == [model]
    step = _valid_model(model).training_state["step"]
    assert 1 <= step < epochs * 5
    assert all(p.parent == out and p.name.startswith(".m.aemodel.") for p in left), left

    # The next run continues from that checkpoint and clears the stale temporary.
    _age(left)
    outcome = run_cli([*argv, "--resume"], capsys)
    assert outcome.status == 0, outcome.err
    assert _valid_model(model).training_state["step"] == epochs * 5
    assert _finals(out) == [model]
    _assert_no_temporaries(out)


def _start_overwrite(digits: Path, tmp_path: Path, epochs: int) -> tuple[Job, Path, str]:
    out = tmp_path / f"run{epochs}"
    out.mkdir()
    model = out / "m.aemodel"
    before = _good_model(model)
    job = Job(["train", digits, "--out", model, "--overwrite", *TRAIN, "--epochs", str(epochs)],
              tmp_path / "cache")
    return job, model, before


def _assert_rerun_replaces(job: Job, model: Path, capsys) -> None:
    """The same command again: a new, whole model file and no temporary."""
    _age(_temporaries(model.parent))
    outcome = run_cli(job.argv, capsys)
    assert outcome.status == 0, outcome.err
    assert _valid_model(model).training_state["step"] >= 1
    assert _finals(model.parent) == [model]
    _assert_no_temporaries(model.parent)


@pytest.mark.slow
def test_a_kill_before_the_first_step_of_overwrite_keeps_the_old_model(
        digits: Path, tmp_path: Path, jobs: list[Job], capsys) -> None:
    job, model, before = _start_overwrite(digits, tmp_path, epochs=2)
    jobs.append(job)
    # Its SIGTERM handler is installed just before the images are read: well before step 1.
    assert job.poll_until(job.handles_sigterm), job.err
    job.kill()
    assert "training conv-ae" not in job.err, "the kill came after training had started"
    assert _digest(model) == before
    assert _finals(model.parent) == [model]
    assert all(p.stat().st_size == 0 for p in _temporaries(model.parent))  # a write probe
    _assert_rerun_replaces(job, model, capsys)


@pytest.mark.slow
def test_a_kill_at_a_random_moment_of_overwrite_leaves_a_whole_model(
        digits: Path, tmp_path: Path, jobs: list[Job], capsys) -> None:
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    for epochs in (4, 16, 64):  # a bigger job when it finished before the moment
        job, model, before = _start_overwrite(digits, tmp_path, epochs)
        jobs.append(job)
        assert job.poll_until(lambda job=job: "training conv-ae" in job.err), job.err
        moment = time.monotonic() + rng.uniform(0.0, 0.6)
        if job.poll_until(lambda moment=moment: time.monotonic() >= moment):
            job.kill()
            break
        job.finish()
    else:
        pytest.fail("every run finished before its random moment")
    # Either the old model, untouched, or a whole new one: never a mix or a partial file.
    if _digest(model) != before:
        assert _valid_model(model).training_state["step"] >= 1, f"seed {seed}"
    assert _finals(model.parent) == [model], f"seed {seed}"
    _assert_rerun_replaces(job, model, capsys)


@pytest.mark.slow
def test_sigterm_before_the_first_step_of_overwrite_leaves_the_model_byte_identical(
        digits: Path, tmp_path: Path, jobs: list[Job]) -> None:
    job, model, before = _start_overwrite(digits, tmp_path, epochs=2)
    jobs.append(job)
    assert job.poll_until(job.handles_sigterm), job.err
    job.proc.terminate()
    status = job.finish()
    assert _digest(model) == before
    assert _finals(model.parent) == [model]
    _assert_no_temporaries(model.parent)
    # A stop asked for is the normal end of a run: status 0 and no report of a bug.
    assert "Traceback" not in job.err, job.err
    assert status == 0, (status, job.err)


# --- encode -------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_a_kill_while_encode_writes_keeps_the_older_codes(
        suffix: str, autoencoder: Path, digits: Path, tmp_path: Path, jobs: list[Job],
        capsys) -> None:
    codes = tmp_path / "out" / f"codes{suffix}"
    codes.parent.mkdir()
    assert run_cli(["encode", autoencoder, digits, "--out", codes], capsys).status == 0
    before = _digest(codes)
    for per_label in (300, 1200, 4800):  # more images, a longer write, when it was missed
        folder = make_digit_folder(tmp_path / f"many{per_label}", per_label=per_label)
        argv = ["encode", autoencoder, folder, "--out", codes, "--overwrite", "--device", "cpu"]
        job = Job(argv, tmp_path / "cache")
        jobs.append(job)
        # A write probe is empty: a temporary with content is the codes being written.
        left = job.kill_during_write(codes.parent, nonempty=True)
        if left:
            break
        assert job.finish() == 0, job.err
        # The run finished: the next one starts again from an older, smaller file.
        assert run_cli(["encode", autoencoder, digits, "--out", codes, "--overwrite"],
                       capsys).status == 0
        before = _digest(codes)
    else:
        pytest.fail("every encode finished before its write was caught")
    assert _digest(codes) == before
    _valid_codes(codes, images=40)
    assert _finals(codes.parent) == [codes]

    _age(left)
    outcome = run_cli(argv, capsys)
    assert outcome.status == 0, outcome.err
    _valid_codes(codes, images=2 * per_label)
    _assert_no_temporaries(codes.parent)


# --- denoise --------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_kill_part_way_through_a_denoise_batch_leaves_only_whole_outputs(
        denoiser: Path, tmp_path: Path, jobs: list[Job], capsys) -> None:
    for side in (96, 256, 640):  # bigger images when the batch outran the moment
        photos = tmp_path / f"photos{side}"
        sizes = _photos(photos, 20, side)
        out = tmp_path / f"out{side}"
        out.mkdir()
        # An output of an earlier run: it stays as it was or becomes a whole new one.
        Image.fromarray(np.zeros((side + 19, side + 32, 3), np.uint8)).save(out / "p19.png")
        earlier = _digest(out / "p19.png")

        def some_done(out: Path = out) -> bool:
            return sum(1 for p in out.glob("p*.png.json")) >= 3

        job = Job(["denoise", denoiser, photos, "--out", out, "--device", "cpu"],
                  tmp_path / "cache")
        jobs.append(job)
        left = job.kill_during_write(out, ready=some_done)
        if left:
            break
        job.finish()
    else:
        pytest.fail("every batch finished before it was caught writing")
    images = [p for p in _finals(out) if p.suffix == ".png"]
    assert 3 <= len(list(out.glob("*.json"))) < 20, _finals(out)  # killed part-way
    for path in images:
        if path.name == "p19.png" and _digest(path) == earlier:
            continue
        _assert_valid_image(path, sizes[path.name])
    for sidecar in out.glob("*.json"):
        assert (out / sidecar.stem).exists()
        json.loads(sidecar.read_text(encoding="utf-8"))
    assert {p.name for p in _finals(out)} <= {*sizes, *(f"{n}.json" for n in sizes)}

    _age(left)
    outcome = run_cli(job.argv, capsys)
    assert outcome.status == 0, outcome.err
    assert {p.name for p in _finals(out)} == {*sizes, *(f"{n}.json" for n in sizes)}
    for name, size in sizes.items():
        _assert_valid_image(out / name, size)
    _assert_no_temporaries(out)
