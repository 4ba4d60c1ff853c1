"""Fuzzed command-line arguments and configuration dicts (property-based, with hypothesis).

The property of every command: it exits 0 or 2, never with a traceback; a refusal is one
line starting ``aestudio`` and leaves no file behind; a success writes only its outputs.
Training is kept short whatever is fuzzed: four tiny images, ``--epochs 1`` and
``--max-minutes 0.01`` come first on the line, so a fuzzed value replaces only one bound.
The config builders take any dict and either return a config or raise ``ConfigError``.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image

from aestudio.core.config import DataConfig, TrainConfig, from_dict
from aestudio.core.errors import REPORT_LINE, ConfigError
from aestudio.core.models import create_model, list_models
from aestudio.core.models.modelfile import save_model_file
from tests.conftest import make_digit_folder
from tests.faults.fault_helpers import Outcome, Snapshot, is_temporary, run_as_process

# Each example runs a command: no shrinking (a found case is shown as drawn, and pinned below
# once known) and a stop at the first failure, so that a failing run stays short too.
FUZZ = settings(max_examples=30, deadline=None, database=None, derandomize=True,
                report_multiple_bugs=False,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
TINY_AE = ["--latent-dim", "2", "--option", "width=4", "--option", "hidden=16",
           "--option", "depth=1"]
SHORT_TRAINING = ["--size", "16", "--epochs", "1", "--max-minutes", "0.01", "--batch-size", "4",
                  "--device", "cpu", "--no-amp"]


# --- running as the real process does -----------------------------------------------------


_run = run_as_process


def _fresh(root: Path) -> Path:
    """A new empty folder for one example (hypothesis reuses the test's fixtures)."""
    return Path(tempfile.mkdtemp(dir=root, prefix="case"))


def _assert_property(outcome: Outcome, snapshot: Snapshot, outputs: tuple[Path, ...]) -> None:
    """0 or 2, no traceback; 2 is one line and writes nothing; 0 writes only ``outputs``."""
    assert not outcome.traceback, outcome.err
    assert outcome.status in (0, 2), (outcome.status, outcome.err)
    if outcome.status == 2:
        assert len(outcome.err_lines) == 1, outcome.err
        assert outcome.err_lines[0].startswith("aestudio"), outcome.err
        assert REPORT_LINE not in outcome.err, outcome.err  # a bug, dressed as a bad input
        snapshot.assert_nothing_lost()
    else:
        snapshot.assert_nothing_lost(allowed_new=outputs)


# --- strategies ---------------------------------------------------------------------------

_NASTY_NUMBERS = ["", " ", "0", "-0", "1", "-1", "0.5", "1e-7", "1e-300", "1e309", "-1e309",
                  "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1_000", "0x10", "1/2",
                  "\N{FULLWIDTH DIGIT ONE}", "\N{ARABIC-INDIC DIGIT THREE}", "1e", "--", "=",
                  "9" * 40, "0.1,0.2"]
#: Text that argv can carry (no NUL; undecodable bytes arrive as surrogates, left out here).
_ARG_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=16)
NUMBER_TEXT = st.one_of(
    st.sampled_from(_NASTY_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.integers(-(2**70), 2**70).map(str),
    _ARG_TEXT,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**7), 10**7)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6,
)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four tiny training images, a photo and two tiny models, shared by the module."""
    root = tmp_path_factory.mktemp("fault-arguments")
    digits = make_digit_folder(root / "digits", per_label=2)
    photos = root / "photos"
    photos.mkdir()
    photo = photos / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(photo)
    torch.manual_seed(0)
    autoencoder = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4,
                               hidden=16, depth=1)
    denoiser = create_model("denoiser", channels=3, width=8, depth=1)
    return {"digits": digits, "photo": photo,
            "autoencoder": save_model_file(root / "ae.aemodel", autoencoder.eval()),
            "denoiser": save_model_file(root / "d.aemodel", denoiser.eval())}


# --- train ----------------------------------------------------------------------------------

TRAIN_NUMBER_FLAGS = ("--lr", "--val-fraction", "--max-minutes", "--epochs", "--batch-size",
                      "--weight-decay", "--seed", "--size", "--max-pixels",
                      "--checkpoint-minutes", "--sample-seconds", "--snapshot-seconds",
                      "--patches-per-epoch", "--latent-dim")


@FUZZ
@given(flag=st.sampled_from(TRAIN_NUMBER_FLAGS), value=NUMBER_TEXT)
def test_train_numbers(flag: str, value: str, files: dict[str, Path], tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    model = work / "m.aemodel"
    inputs, snapshot = Snapshot(files["digits"]), Snapshot(work)
    outcome = _run(["train", files["digits"], "--out", model, *TINY_AE, *SHORT_TRAINING,
                    f"{flag}={value}"], capsys)
    _assert_property(outcome, snapshot, (model,))
    inputs.assert_nothing_lost()
    assert (outcome.status == 0) == model.is_file(), outcome.err


_OPTION_KEYS = st.one_of(
    st.sampled_from(["width", "hidden", "depth", "latent_dim", "latent-dim", "image_size",
                     "channels", "loss", "sparsity", "neighbours", "beta", "arch", "unshuffle",
                     "residual", "", "=", "width ", "WIDTH", "__class__", "model"]),
    st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-"),
            max_size=10),
)
_OPTION_VALUES = st.one_of(
    JSON_VALUES.map(json.dumps),
    NUMBER_TEXT,
    st.sampled_from(["{", "[", "tru", "t", "f", "-", "--", "[1,", '{"a":', "1e999", "NaN"]),
)


@FUZZ
@given(key=_OPTION_KEYS, value=_OPTION_VALUES,
       model=st.sampled_from(["conv-ae", "mlp-ae", "vae", "denoiser", "gan", ""]))
def test_train_model_options(key: str, value: str, model: str, files: dict[str, Path],
                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    out = work / "m.aemodel"
    inputs, snapshot = Snapshot(files["digits"]), Snapshot(work)
    tiny = {"conv-ae": TINY_AE, "vae": TINY_AE,
            "mlp-ae": ["--latent-dim", "2", "--option", "hidden=[16]"],
            "denoiser": ["--option", "width=8", "--option", "depth=1", "--patch", "16",
                         "--patches-per-epoch", "4"]}.get(model, [])
    outcome = _run(["train", files["digits"], "--model", model, "--out", out, *tiny,
                    *SHORT_TRAINING, "--option", f"{key}={value}"], capsys)
    _assert_property(outcome, snapshot, (out,))
    inputs.assert_nothing_lost()


@FUZZ
@given(noise=st.one_of(
    st.sampled_from(["gaussian:", "gaussian:nan", "gaussian:inf", "gaussian:-5", "gaussian:1e9",
                     "poisson-gaussian:0,0", "poisson-gaussian:nan,1", "poisson-gaussian:1",
                     "salt-pepper:2", "salt-pepper:-0.1", "speckle:nan", "none", "NONE", ":",
                     "gaussian:25:3", "gaussian 25"]),
    st.builds(lambda kind, rest: f"{kind}:{rest}",
              st.sampled_from(["gaussian", "poisson-gaussian", "salt-pepper", "speckle"]),
              NUMBER_TEXT),
    _ARG_TEXT,
))
def test_train_noise(noise: str, files: dict[str, Path], tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    out = work / "m.aemodel"
    snapshot = Snapshot(work)
    outcome = _run(["train", files["digits"], "--out", out, *TINY_AE, *SHORT_TRAINING,
                    "--task", "denoise", f"--noise={noise}"], capsys)
    _assert_property(outcome, snapshot, (out,))


# --- decode, map and denoise --------------------------------------------------------------

_CODES = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True).map(repr), max_size=4)
    .map(",".join),
    st.lists(NUMBER_TEXT, max_size=3).map(",".join),
    st.sampled_from(["0,0", "0, 0", " 0 ,0 ", "0,,0", ",0,0,", "0;0", "0 0", "(0,0)", "[0,0]",
                     "nan,0", "0,inf", "1e308,1e308", "-1e308,1e308", "1e-320,0"]),
    _ARG_TEXT,
)


@FUZZ
@given(code=_CODES)
def test_decode_codes(code: str, files: dict[str, Path], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    out = work / "x.png"
    snapshot = Snapshot(work)
    outcome = _run(["decode", files["autoencoder"], f"--z={code}", "--out", out, "--device",
                    "cpu"], capsys)
    _assert_property(outcome, snapshot, (out,))
    if outcome.status == 0:
        with Image.open(out) as image:
            assert image.size == (16, 16)


@settings(FUZZ, max_examples=15)
@given(size=st.one_of(NUMBER_TEXT, st.integers(150, 250).map(str),
                      st.integers(7900, 8100).map(str)))
def test_map_size(size: str, files: dict[str, Path], tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    out = work / "map.png"
    snapshot = Snapshot(work)
    outcome = _run(["map", files["autoencoder"], files["digits"], "--out", out,
                    f"--size={size}", "--device", "cpu"], capsys)
    _assert_property(outcome, snapshot, (out,))
    if outcome.status == 0:
        with Image.open(out) as image:
            assert image.size[0] == int(size)


@FUZZ
@given(flag=st.sampled_from(["--tile", "--amount", "--luma", "--chroma"]),
       value=st.one_of(NUMBER_TEXT, st.integers(-100, 200).map(str)))
def test_denoise_numbers(flag: str, value: str, files: dict[str, Path], tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    out = work / "out"
    inputs, snapshot = Snapshot(files["photo"].parent), Snapshot(work)
    outcome = _run(["denoise", files["denoiser"], files["photo"], "--out", out,
                    f"{flag}={value}", "--device", "cpu"], capsys)
    written = out / files["photo"].name
    _assert_property(outcome, snapshot, (written, written.with_name(written.name + ".json")))
    inputs.assert_nothing_lost()
    if outcome.status == 0:
        assert written.is_file()


_SUFFIXES = st.one_of(
    st.sampled_from(["", ".", "..", "/", "../x", "../../evil", "a/b", "-denoised", "x/..",
                     "\\", "..\\x", " ", "-" * 250, ".png", ".aestudio-tmp", "~", "$HOME", "*",
                     "\N{SNOWMAN}", "a\nb", "\t", "x" * 300]),
    st.text(st.sampled_from(list("ab./\\-_~ \N{SNOWMAN}")), max_size=12),
    _ARG_TEXT,
)


@FUZZ
@given(suffix=_SUFFIXES)
def test_denoise_suffix(suffix: str, files: dict[str, Path], tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    work = _fresh(tmp_path)
    photos = work / "photos"
    photos.mkdir()
    photo = photos / "photo.png"
    photo.write_bytes(files["photo"].read_bytes())
    out = work / "out"
    snapshot = Snapshot(work)
    outcome = _run(["denoise", files["denoiser"], photo, "--out", out, f"--suffix={suffix}",
                    "--device", "cpu"], capsys)
    assert not outcome.traceback, outcome.err
    new = snapshot.new_files()
    # Whatever the suffix, nothing is written outside --out and nothing half-written stays.
    assert all(out in p.parents for p in new), new
    assert not any(is_temporary(p) for p in new), new
    if outcome.status == 0:
        assert len(new) == 2, new  # the image and its sidecar
        image = next(p for p in new if not p.name.endswith(".json"))
        assert image.parent == out and image.name == f"photo{suffix}.png", image
        snapshot.assert_nothing_lost(allowed_new=tuple(new))
    else:
        _assert_property(outcome, snapshot, ())


# --- pinned cases: values the fuzzing above found or that sit on a boundary ---------------

#: (command, extra arguments): each must exit 0 or 2 under the same property as the fuzzing.
PINNED: dict[str, tuple[str, list[str]]] = {
    "train-weight-decay-negative": ("train", ["--weight-decay=-1"]),
    "train-weight-decay-nan": ("train", ["--weight-decay=nan"]),
    "train-seed-negative": ("train", ["--seed=-1"]),
    "train-seed-2**64": ("train", [f"--seed={2**64}"]),
    "train-lr-dashes": ("train", ["--lr=--"]),
    "train-epochs-dashes": ("train", ["--epochs=--"]),
    "train-max-pixels-dashes": ("train", ["--max-pixels=--"]),
    "train-max-pixels-zero": ("train", ["--max-pixels=0"]),
    "train-lr-nan": ("train", ["--lr=nan"]),
    "train-val-fraction-nan": ("train", ["--val-fraction=nan"]),
    "train-val-fraction-one": ("train", ["--val-fraction=1"]),
    "train-max-minutes-nan": ("train", ["--max-minutes=nan"]),
    "train-max-minutes-negative": ("train", ["--max-minutes=-1"]),
    "train-max-minutes-zero": ("train", ["--max-minutes=0"]),
    "train-batch-size-zero": ("train", ["--batch-size=0"]),
    "train-epochs-zero": ("train", ["--epochs=0"]),
    "train-size-3": ("train", ["--size=3"]),
    "train-size-100000": ("train", ["--size=100000"]),
    "train-patches-per-epoch-negative": ("train", ["--patches-per-epoch=-1"]),
    "train-checkpoint-minutes-negative": ("train", ["--checkpoint-minutes=-1"]),
    "train-checkpoint-minutes-nan": ("train", ["--checkpoint-minutes=nan"]),
    "train-sample-seconds-nan": ("train", ["--sample-seconds=nan"]),
    "train-snapshot-seconds-inf": ("train", ["--snapshot-seconds=inf"]),
    "train-latent-dim-zero": ("train", ["--latent-dim=0"]),
    "train-option-width-true": ("train", ["--option", "width=true"]),
    "train-option-latent-dim-1e9": ("train", ["--option", "latent_dim=1e9"]),
    "train-option-empty-key": ("train", ["--option", "=4"]),
    "train-option-newline-key": ("train", ["--option", "a\nb=4"]),
    "train-mlp-hidden-empty": ("train", ["--model", "mlp-ae", "--option", "hidden=[]"]),
    "train-mlp-hidden-zero": ("train", ["--model", "mlp-ae", "--option", "hidden=[0]"]),
    "noise-gaussian-huge": ("train", ["--task", "denoise", "--noise=gaussian:1e40"]),
    "noise-gaussian-nan": ("train", ["--task", "denoise", "--noise=gaussian:nan"]),
    "noise-gaussian-negative": ("train", ["--task", "denoise", "--noise=gaussian:-5"]),
    "noise-poisson-huge-peak": ("train", ["--task", "denoise",
                                          "--noise=poisson-gaussian:1e58,1e58"]),
    "noise-poisson-tiny-peak": ("train", ["--task", "denoise",
                                          "--noise=poisson-gaussian:1e-95,3600"]),
    "noise-salt-pepper-2": ("train", ["--task", "denoise", "--noise=salt-pepper:2"]),
    "noise-speckle-inf": ("train", ["--task", "denoise", "--noise=speckle:inf"]),
    "decode-dashes": ("decode", ["--z=--"]),
    "decode-beyond-float32": ("decode", ["--z=3.5e38,0"]),
    "decode-huge-count-mismatch": ("decode", ["--z=1e300,1e300,1e300"]),
    "decode-nan": ("decode", ["--z=nan,0"]),
    "decode-empty": ("decode", ["--z="]),
    "denoise-tile-dashes": ("denoise", ["--tile=--"]),
    "denoise-amount-dashes": ("denoise", ["--amount=--"]),
    "denoise-suffix-dashes": ("denoise", ["--suffix=--"]),
    "denoise-tile-63": ("denoise", ["--tile=63"]),
    "denoise-tile-huge": ("denoise", [f"--tile={10**12}"]),
    "denoise-amount-nan": ("denoise", ["--amount=nan"]),
    "denoise-suffix-slash": ("denoise", ["--suffix=/x"]),
    "denoise-suffix-dotdot": ("denoise", ["--suffix=.."]),
    "denoise-suffix-long": ("denoise", ["--suffix=" + "x" * 300]),
    "map-size-dashes": ("map", ["--size=--"]),
    "map-size-200": ("map", ["--size=200"]),
    "map-size-199": ("map", ["--size=199"]),
    "map-size-8001": ("map", ["--size=8001"]),
}


def _pinned_argv(command: str, extra: list[str], files: dict[str, Path],
                 work: Path) -> tuple[list, tuple[Path, ...]]:
    if command == "train":
        out = work / "m.aemodel"
        return (["train", files["digits"], "--out", out, *TINY_AE, *SHORT_TRAINING, *extra],
                (out,))
    if command == "decode":
        out = work / "x.png"
        return ["decode", files["autoencoder"], "--out", out, "--device", "cpu", *extra], (out,)
    if command == "denoise":
        out = work / "out"
        return (["denoise", files["denoiser"], files["photo"], "--out", out, "--device", "cpu",
                 *extra], ())
    if command == "map":
        out = work / "map.png"
        return (["map", files["autoencoder"], files["digits"], "--out", out, "--device",
                 "cpu", *extra], (out,))
    raise AssertionError(command)


@pytest.mark.parametrize("case", list(PINNED))
def test_pinned_argument(case: str, files: dict[str, Path], tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    command, extra = PINNED[case]
    inputs = Snapshot(files["digits"].parent)
    snapshot = Snapshot(tmp_path)
    argv, outputs = _pinned_argv(command, extra, files, tmp_path)
    outcome = _run(argv, capsys)
    if command == "denoise" and outcome.status == 0:
        # Written inside --out under the input's stem plus the suffix, with its sidecar.
        outputs = tuple(snapshot.new_files())
        assert len(outputs) == 2 and all(tmp_path / "out" in p.parents for p in outputs)
        suffix = next((a.split("=", 1)[1] for a in extra if a.startswith("--suffix=")), "")
        assert (tmp_path / "out" / f"photo{suffix}.png") in outputs, outputs
    _assert_property(outcome, snapshot, outputs)
    inputs.assert_nothing_lost(allowed_new=tuple(p for p in outputs
                                                 if files["digits"].parent in p.parents))
    if command == "map" and outcome.status == 0:
        with Image.open(outputs[0]) as image:
            assert image.size[0] == int(extra[0].split("=")[1]), image.size
    if command == "decode" and outcome.status == 0:
        assert len(outcome.err_lines) == 1, outcome.err  # "wrote X", and no warning


# --- config dicts -------------------------------------------------------------------------


def _config_classes() -> list[type]:
    return [entry.config_cls for entry in list_models()] + [TrainConfig, DataConfig]


def _field_names(cls: type) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("cls", _config_classes(), ids=lambda c: c.__name__)
def test_from_dict_returns_a_config_or_raises_config_error(cls: type) -> None:
    keys = st.one_of(st.sampled_from(_field_names(cls)), st.text(max_size=8))

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(data=st.dictionaries(keys, JSON_VALUES, max_size=4))
    def check(data: dict[str, Any]) -> None:
        try:
            config = from_dict(cls, data)
        except ConfigError:
            pass
        else:
            assert isinstance(config, cls)

    check()


@pytest.mark.parametrize("cls", _config_classes(), ids=lambda c: c.__name__)
def test_a_config_error_is_one_line(cls: type) -> None:
    """The message names the bad key or value on one line, whatever characters they hold."""
    names = _field_names(cls)

    @settings(max_examples=100, deadline=None, database=None, derandomize=True)
    @given(key=st.one_of(st.sampled_from(names), st.text(max_size=8)),
           value=st.one_of(JSON_VALUES, st.text(st.sampled_from("a\n\r\x85\u2028"),
                                                max_size=4)))
    def check(key: str, value: Any) -> None:
        try:
            from_dict(cls, {key: value})
        except ConfigError as exc:
            text = str(exc).strip()
            assert text and len(text.splitlines()) == 1, text

    check()


@pytest.mark.parametrize("cls", _config_classes(), ids=lambda c: c.__name__)
def test_from_dict_of_known_fields_with_wrong_values(cls: type) -> None:
    """Every field at once, each with an arbitrary value: the harder case for __post_init__."""
    names = _field_names(cls)

    @settings(max_examples=200, deadline=None, database=None, derandomize=True)
    @given(values=st.lists(JSON_VALUES, min_size=len(names), max_size=len(names)),
           keep=st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    def check(values: list[Any], keep: list[bool]) -> None:
        data = {n: v for n, v, k in zip(names, values, keep, strict=True) if k}
        try:
            config = from_dict(cls, data)
        except ConfigError:
            pass
        else:
            assert isinstance(config, cls)

    check()


def _config_class(name: str) -> type:
    return next(cls for cls in _config_classes() if cls.__name__ == name)


#: Dicts on a boundary of the configs' own checks (``__post_init__``), with the class name.
PINNED_DICTS: dict[str, tuple[str, dict[str, Any]]] = {
    "mlp-hidden-empty": ("MLPAEConfig", {"hidden": []}),
    "mlp-hidden-zero": ("MLPAEConfig", {"hidden": [0]}),
    "mlp-hidden-negative": ("MLPAEConfig", {"hidden": [-1, 16]}),
    "mlp-hidden-number": ("MLPAEConfig", {"hidden": 16}),
    "mlp-hidden-nested": ("MLPAEConfig", {"hidden": [[16]]}),
    "conv-width-true": ("ConvAEConfig", {"width": True}),
    "conv-width-float": ("ConvAEConfig", {"width": 4.5}),
    "conv-width-huge-float": ("ConvAEConfig", {"width": 1e300}),
    "conv-latent-nan": ("ConvAEConfig", {"latent_dim": math.nan}),
    "conv-loss-list": ("ConvAEConfig", {"loss": ["bce"]}),
    "vae-beta-inf": ("VAEConfig", {"beta": math.inf}),
    "denoiser-unshuffle-3": ("DenoiserConfig", {"unshuffle": 3}),
    "denoiser-arch-none": ("DenoiserConfig", {"arch": None}),
    "train-lr-nan": ("TrainConfig", {"lr": math.nan}),
    "train-epochs-none": ("TrainConfig", {"epochs": None}),
    "train-max-minutes-string": ("TrainConfig", {"max_minutes": "5"}),
    "train-weight-decay-negative": ("TrainConfig", {"weight_decay": -1.0}),
    "train-seed-negative": ("TrainConfig", {"seed": -1}),
    "train-noise-number": ("TrainConfig", {"noise": 25}),
    "data-size-nan": ("DataConfig", {"size": math.nan}),
    "data-channels-2": ("DataConfig", {"channels": 2}),
    "data-folder-list": ("DataConfig", {"folder": ["a"]}),
}


@pytest.mark.parametrize("case", list(PINNED_DICTS))
def test_from_dict_pinned(case: str) -> None:
    name, data = PINNED_DICTS[case]
    cls = _config_class(name)
    try:
        config = from_dict(cls, data)
    except ConfigError as exc:
        assert len(str(exc).strip().splitlines()) == 1, str(exc)
    else:
        assert isinstance(config, cls)
