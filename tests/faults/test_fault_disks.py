"""Real full and read-only disks against ``train``, ``encode``, ``decode``, ``map``,
``interpolate``, ``denoise`` and ``save_model_file``.

Each case gets its own disk inside a user and mount namespace (``unshare``): a tmpfs of a few
hundred kilobytes filled up until it says ENOSPC, a read-only bind mount, or a tmpfs that
fills up part-way through a ``denoise`` batch. One driver process
(``tests/faults/fault_disk_driver.py``) runs all cases, so torch is imported once.

Every case must end in status 2 and one line starting ``aestudio`` that says the disk is
full or read-only, without a traceback; no file that was on the disk changes, no temporary
is left, and ``train`` refuses before it trains. A batch that fills the disk keeps the
outputs it wrote, whole, and leaves nothing of the one that did not fit.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aestudio.cli import main
from aestudio.core.facts import TEMP_SUFFIX
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file
from tests.conftest import make_digit_folder
from tests.faults.conftest import is_temporary, note_data_lost, note_traceback

DRIVER = Path(__file__).with_name("fault_disk_driver.py")
TINY_AE = ["--model", "conv-ae", "--latent-dim", "2", "--option", "width=4",
           "--option", "hidden=16", "--option", "depth=1", "--size", "16", "--device", "cpu"]
AE_OPTIONS = {"channels": 1, "image_size": 16, "latent_dim": 2, "width": 4, "hidden": 16,
              "depth": 1}
PHOTOS = 8
PAGE = 4096

#: The cases that must fail as a whole: name -> the word their one line must hold.
CASES = {
    "train-full": "full",
    "train-overwrite-full": "full",
    "train-read-only": "read-only",
    "train-overwrite-read-only": "read-only",
    "encode-csv-full": "full",
    "encode-npz-full": "full",
    "encode-read-only": "read-only",
    "decode-full": "full",
    "decode-read-only": "read-only",
    "map-full": "full",
    "map-read-only": "read-only",
    "interpolate-full": "full",
    "interpolate-read-only": "read-only",
    "save-model-full": "full",
}


def _namespaces_work(probe: Path) -> str | None:
    """None when ``unshare`` gives a tmpfs that really fills up here, else why not."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    probe.mkdir()
    script = (f"mount -t tmpfs -o size=64k none {probe} && "
              f"! dd if=/dev/zero of={probe}/x bs=1k count=128 2>/dev/null")
    try:
        done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                               script], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if done.returncode != 0:
        return f"no tmpfs in a user namespace here: {done.stderr.strip() or done.returncode}"
    return None


def _quiet_main(argv: list[object]) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in argv])


def _photos(root: Path) -> dict[str, tuple[int, int]]:
    root.mkdir()
    rng = np.random.default_rng(5)
    sizes = {}
    for i in range(PHOTOS):
        h, w = 96 + i, 128
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / f"p{i}.png")
        sizes[f"p{i}.png"] = (w, h)
    return sizes


def _pages(path: Path) -> int:
    return math.ceil(path.stat().st_size / PAGE)


def _build_cases(work: Path) -> tuple[list[dict], dict]:
    digits = make_digit_folder(work / "digits", per_label=6)
    torch.manual_seed(0)
    ae = save_model_file(work / "ae.aemodel", create_model("conv-ae", **AE_OPTIONS).eval())
    denoiser = save_model_file(work / "d.aemodel",
                               create_model("denoiser", channels=3, width=8, depth=1).eval())
    keep = work / "keep.bin"
    keep.write_bytes(os.urandom(3000))
    older = work / "older"
    older.mkdir()
    for suffix in (".csv", ".npz"):
        assert _quiet_main(["encode", ae, digits, "--out", older / f"codes{suffix}"]) == 0
    photos = work / "photos"
    sizes = _photos(photos)
    # The same batch on an ordinary disk tells how much room each output takes on a tmpfs:
    # the disk of the batch case holds the first half of them and not one page more.
    trial = work / "trial"
    assert _quiet_main(["denoise", denoiser, photos, "--out", trial, "--device", "cpu"]) == 0
    half = sorted(sizes)[:PHOTOS // 2]
    fits = sum(_pages(trial / n) + _pages(trial / f"{n}.json") for n in half)
    shutil.rmtree(trial)

    a, b = sorted((digits / "0").iterdir())[:2]
    train = ["train", digits, "--out", "{disk}/m.aemodel", *TINY_AE, "--epochs", "1"]
    commands = {
        "train": (train, {"keep.bin": keep}),
        "train-overwrite": ([*train, "--overwrite"], {"m.aemodel": ae, "keep.bin": keep}),
        "encode-csv": (["encode", ae, digits, "--out", "{disk}/codes.csv", "--overwrite"],
                       {"codes.csv": older / "codes.csv"}),
        "encode-npz": (["encode", ae, digits, "--out", "{disk}/codes.npz", "--overwrite"],
                       {"codes.npz": older / "codes.npz"}),
        "decode": (["decode", ae, "--z", "0.5,-0.5", "--out", "{disk}/z.png"],
                   {"keep.bin": keep}),
        "map": (["map", ae, digits, "--out", "{disk}/map.png"], {"keep.bin": keep}),
        "interpolate": (["interpolate", ae, a, b, "--out", "{disk}/strip.png"],
                        {"keep.bin": keep}),
    }
    cases = []
    for name, word in CASES.items():
        command = name.removesuffix("-full").removesuffix("-read-only")
        disk = "full" if word == "full" else "readonly"
        case = {"name": name, "disk": disk, "size_k": 256}
        if command == "encode" and disk == "readonly":
            command = "encode-csv"
        if command == "save-model":
            case.update(save_model=["conv-ae", AE_OPTIONS], existing={"m.aemodel": str(ae)})
        else:
            argv, existing = commands[command]
            case.update(argv=[str(x) for x in argv], existing={k: str(v) for k, v in existing.items()})
        cases.append(case)
    cases.append({"name": "denoise-fills-up", "disk": "fills", "size_k": fits * PAGE // 1024,
                  "existing": {},
                  "argv": [str(x) for x in ("denoise", denoiser, photos, "--out", "{disk}",
                                            "--device", "cpu")]})
    return cases, sizes


@pytest.fixture(scope="module")
def disks(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("fault-disks")
    why = _namespaces_work(work / "probe")
    if why:
        pytest.skip(f"needs a real tmpfs in a user and mount namespace: {why}")
    cases, sizes = _build_cases(work)
    spec, result = work / "spec.json", work / "result.json"
    spec.write_text(json.dumps({"work": str(work), "cases": cases}), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "AESTUDIO_CACHE_DIR": str(work / "cache")}
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", sys.executable,
                           str(DRIVER), str(spec), str(result)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and result.exists(), done.stderr
    outcomes = json.loads(result.read_text(encoding="utf-8"))
    return {"outcomes": outcomes, "sizes": sizes}


def _outcome(disks: dict, name: str) -> dict:
    outcome = disks["outcomes"][name]
    assert "driver_error" not in outcome, outcome.get("driver_error")
    if "Traceback (most recent call last)" in outcome["err"]:
        note_traceback()
    return outcome


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _left_behind(outcome: dict) -> list[str]:
    """Temporaries in the copy of the disk taken after the case."""
    left = [str(p) for p in Path(outcome["dump"]).rglob("*") if is_temporary(p)]
    if left:
        note_data_lost()
    return left


def _changed(outcome: dict) -> list[str]:
    after = outcome["after"]
    changed = sorted(n for n, digest in outcome["before"].items() if after.get(n) != digest)
    if changed:
        note_data_lost()
    return changed


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_a_full_or_read_only_disk_is_one_line_and_loses_nothing(disks: dict, name: str) -> None:
    outcome = _outcome(disks, name)
    err = outcome["err"]
    assert "Traceback" not in err, err
    if name.startswith("train"):
        # Checked before the first image is read: not a step trained only to be lost.
        assert not outcome["trained"], f"training started on a disk that cannot take it: {err}"
    assert outcome["status"] == 2, (outcome["status"], err)
    lines = _lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("aestudio"), lines[0]
    assert CASES[name] in lines[0], lines[0]
    assert _changed(outcome) == []
    assert _left_behind(outcome) == []
    assert sorted(outcome["after"]) == sorted(outcome["before"]), "a file was written"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_the_line_names_the_file_asked_for(disks: dict, name: str) -> None:
    """The person's own output path, not the hidden temporary the writer made beside it."""
    outcome = _outcome(disks, name)
    argv = outcome["argv"]
    target = argv[argv.index("--out") + 1] if "--out" in argv else f"{outcome['disk']}/m.aemodel"
    line = _lines(outcome["err"])[-1]
    assert f"{target}: " in line, (target, line)
    assert TEMP_SUFFIX not in line, line


@pytest.mark.slow
def test_a_disk_that_fills_up_during_a_denoise_batch_keeps_the_whole_outputs(
        disks: dict) -> None:
    outcome = _outcome(disks, "denoise-fills-up")
    sizes = disks["sizes"]
    dump = Path(outcome["dump"])
    err = outcome["err"]
    assert "Traceback" not in err, err
    assert _left_behind(outcome) == []
    written = sorted(p.name for p in dump.iterdir() if p.suffix == ".png")
    assert 0 < len(written) < PHOTOS, (written, err)
    for name in written:
        with Image.open(dump / name) as image:
            image.load()
            assert image.size == sizes[name]
        json.loads((dump / f"{name}.json").read_text(encoding="utf-8"))
    # Nothing of the file that did not fit: no image without its sidecar, no sidecar alone.
    assert sorted(p.name for p in dump.iterdir()) == sorted(
        [*written, *(f"{n}.json" for n in written)])
    # One line says the disk is full; the others report the outputs that were written.
    lines = _lines(err)
    full = [line for line in lines if "full" in line]
    assert len(full) == 1, err
    assert full[0].startswith("aestudio"), full[0]
    assert all(" -> " in line for line in lines if line not in full), err
    assert outcome["status"] == 2, (outcome["status"], err)
