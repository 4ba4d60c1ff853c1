"""Absurd sizes are refused before allocating: a real process's peak memory stays near normal.

Each case runs ``aestudio`` in its own process and reads the process's peak resident memory
(``ru_maxrss``) at exit; a normal command on a tiny model gives the baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file
from aestudio.core.models.summary import META_KEY, read_model_meta
from tests.conftest import make_digit_folder

pytestmark = pytest.mark.slow

LIMIT_BYTES = 1_000_000_000  # the goal: no bad input costs more than 1 GB above normal

_PEAK = """
import resource, sys
from aestudio.cli import main
status = main(sys.argv[1:])
print("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, status)
"""


def _peak(argv: list[str], tmp_path: Path) -> tuple[int, int, str]:
    env = {**os.environ, "AESTUDIO_CACHE_DIR": str(tmp_path / "cache"),
           "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", _PEAK, *map(str, argv)], capture_output=True,
                          text=True, env=env, timeout=240, cwd=Path(__file__).parents[2])
    line = next(x for x in done.stdout.splitlines() if x.startswith("PEAK"))
    _, peak, status = line.split()
    return int(peak), int(status), done.stderr


@pytest.fixture(scope="module")
def setting(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("memory")
    digits = make_digit_folder(root / "digits", per_label=4)
    tiny = save_model_file(root / "tiny.aemodel", create_model(
        "conv-ae", channels=1, image_size=16, width=4, hidden=16, depth=1).eval())
    # A forged file: a description of a 4.8 GB mlp-ae with the tiny model's few weights.
    meta = read_model_meta(tiny)
    meta.update(architecture="mlp-ae", kind="autoencoder",
                model_config={"channels": 3, "image_size": 256, "hidden": [8192, 8192]})
    forged = root / "forged.aemodel"
    save_file({"model.w": torch.zeros(4)}, str(forged),
              metadata={"format": "pt", META_KEY: json.dumps(meta)})
    return {"root": root, "digits": digits, "tiny": tiny, "forged": forged}


CASES = {
    "mlp-hidden-8192": ["train", "{digits}", "--model", "mlp-ae", "--size", "256", "--option",
                        "hidden=[8192,8192]", "--out", "{root}/a.aemodel"],
    "conv-batch-4096-at-512": ["train", "{digits}", "--model", "conv-ae", "--size", "512",
                               "--batch-size", "4096", "--option", "width=64",
                               "--out", "{root}/b.aemodel"],
    "forged-huge-model-file": ["decode", "{forged}", "--z", "0,0", "--out", "{root}/c.png"],
    "width-a-million": ["train", "{digits}", "--option", "width=1000000",
                        "--out", "{root}/d.aemodel"],
}


def test_bad_sizes_are_refused_before_allocating(setting, tmp_path) -> None:
    baseline, status, err = _peak(["decode", setting["tiny"], "--z", "0,0", "--out",
                                   tmp_path / "normal.png"], tmp_path)
    assert status == 0, err
    from aestudio.core.models.memory import machine_memory_bytes

    free = machine_memory_bytes() or 0
    for name, argv in CASES.items():
        if name == "mlp-hidden-8192" and free > 30e9:
            continue  # it needs about 34 GB: a machine with that much free may train it
        filled = [a.format(**setting) for a in argv]
        peak, status, err = _peak(filled, tmp_path)
        lines = [x for x in err.splitlines() if x.strip()]
        assert status == 2 and len(lines) == 1 and "Traceback" not in err, (name, err)
        print(f"{name}: peak {peak / 1e9:.2f} GB, normal {baseline / 1e9:.2f} GB")
        assert peak - baseline < LIMIT_BYTES, (name, peak / 1e9, baseline / 1e9, err)
