"""Run aestudio commands against real full and read-only disks, inside a mount namespace.

Started by ``tests/faults/test_fault_disks.py`` as
``unshare --user --map-root-user --mount python fault_disk_driver.py SPEC.json RESULT.json``:
root of its own namespace, it mounts for each case a tiny tmpfs (filled up to ENOSPC, or
sized to fill part-way) or a read-only bind mount, runs the case in this one process
(``aestudio.cli.main(argv)``, stderr captured; one torch import for all cases), and copies
what the disk holds afterwards to a folder outside, for the test to examine once the
namespace and its mounts are gone.

SPEC is ``{"work": FOLDER, "cases": [CASE, ...]}``; a CASE has ``name``, ``disk`` (``full``,
``fills`` or ``readonly``), ``size_k`` (tmpfs size), ``existing`` (file name -> path of the
content the disk holds before), and either ``argv`` (``{disk}`` stands for the disk's folder)
or ``save_model`` (``[architecture, options]``: ``save_model_file`` onto the disk as
``m.aemodel``). RESULT maps each case's name to what happened: ``status``, ``out``, ``err``,
``seconds``, ``trained`` (training started), ``disk``, ``argv`` (as run), ``before`` (file name -> sha256),
``after`` (the same, afterwards) and ``dump`` (the folder holding a copy of the disk).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

FILLER = "filler.bin"  # what fills a full disk up; not a file of the case


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _fill(folder: Path) -> None:
    """Write until the disk says ENOSPC: afterwards not one more byte fits."""
    with open(folder / FILLER, "wb", buffering=0) as handle:
        for chunk in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    handle.write(b"\0" * chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


def _digests(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != FILLER:
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _prepare(case: dict, work: Path) -> Path:
    disk = work / "disks" / case["name"]
    disk.mkdir(parents=True)
    if case["disk"] == "readonly":
        source = work / "sources" / case["name"]
        source.mkdir(parents=True)
        for name, content in case.get("existing", {}).items():
            shutil.copyfile(content, source / name)
        _mount("--bind", str(source), str(disk))
        _mount("-o", "remount,bind,ro", str(disk))
        return disk
    _mount("-t", "tmpfs", "-o", f"size={case['size_k']}k", "none", str(disk))
    for name, content in case.get("existing", {}).items():
        shutil.copyfile(content, disk / name)
    if case["disk"] == "full":
        _fill(disk)
    return disk


class _Watch:
    """Notes whether training started: ``train`` on a bad disk must fail before it does."""

    def __init__(self) -> None:
        self.trained = False

    def install(self) -> None:
        from aestudio.core.training import trainer

        fit, watch = trainer.fit, self

        def watched_fit(*args, **kwargs):
            watch.trained = True
            return fit(*args, **kwargs)

        trainer.fit = watched_fit  # the command imports it from the module when it runs


def _run_argv(argv: list[str]) -> tuple[int, str, str]:
    from aestudio.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
        except BaseException:  # escaped the command line's own error path: a bug
            traceback.print_exc()
            status = 1
    return status, out.getvalue(), err.getvalue()


def _save_model(disk: Path, architecture: str, options: dict) -> tuple[int, str, str]:
    """``save_model_file`` onto the disk, judged as the command line judges an error."""
    import torch

    from aestudio.core.errors import describe_error, is_user_error
    from aestudio.core.models import create_model
    from aestudio.core.models.modelfile import save_model_file

    torch.manual_seed(2)
    model = create_model(architecture, **options).eval()
    try:
        save_model_file(disk / "m.aemodel", model)
    except Exception as exc:
        status = 2 if is_user_error(exc) else 1
        lines = "" if status == 2 else traceback.format_exc()
        return status, "", f"{lines}aestudio: error: {describe_error(exc)}\n"
    return 0, "", ""


def run_case(case: dict, work: Path, watch: _Watch) -> dict:
    disk = _prepare(case, work)
    before = _digests(disk)
    watch.trained = False
    started = time.perf_counter()
    if "save_model" in case:
        status, out, err = _save_model(disk, *case["save_model"])
    else:
        status, out, err = _run_argv([a.replace("{disk}", str(disk)) for a in case["argv"]])
    seconds = time.perf_counter() - started
    argv = [a.replace("{disk}", str(disk)) for a in case.get("argv", [])]
    after = _digests(disk)
    dump = work / "dumps" / case["name"]
    shutil.copytree(disk, dump, ignore=shutil.ignore_patterns(FILLER))
    return {"status": status, "out": out, "err": err, "seconds": seconds,
            "trained": watch.trained, "before": before, "after": after, "dump": str(dump),
            "disk": str(disk), "argv": argv}


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    work = Path(spec["work"])
    watch = _Watch()
    watch.install()
    results = {}
    for case in spec["cases"]:
        try:
            results[case["name"]] = run_case(case, work, watch)
        except Exception:  # the driver's own failure: reported, the other cases still run
            results[case["name"]] = {"driver_error": traceback.format_exc()}
    Path(sys.argv[2]).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
