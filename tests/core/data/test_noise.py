"""Tests for aestudio.core.data.noise."""

from __future__ import annotations

import pytest
import torch

from aestudio.core.data.noise import (
    NOISE_KINDS,
    NOISE_SYNTAX,
    NoiseModel,
    NoiseSpecError,
    parse_noise,
)

SPECS = ["none", "gaussian:25", "poisson-gaussian:30,5", "camera:1", "mixed:50", "salt-pepper:0.05",
         "speckle:0.2"]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("spec", SPECS)
def test_str_round_trips(spec: str) -> None:
    model = parse_noise(spec)
    assert str(model) == spec
    assert parse_noise(str(model)) == model


def test_every_kind_has_syntax_help() -> None:
    assert set(NOISE_SYNTAX) == set(NOISE_KINDS)
    assert {parse_noise(s).kind for s in SPECS} == set(NOISE_KINDS)


def test_parse_is_lenient_about_case_and_spaces() -> None:
    assert parse_noise("  Gaussian: 25 ") == NoiseModel("gaussian", (25.0,))
    assert parse_noise("poisson-gaussian:30, 5").params == (30.0, 5.0)
    assert parse_noise("salt_pepper:0.1").kind == "salt-pepper"


def test_non_integer_params_round_trip_exactly() -> None:
    model = NoiseModel("gaussian", (0.1 + 0.2,))
    assert parse_noise(str(model)) == model


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("foo", "unknown noise 'foo'; choose one of none, gaussian"),
        ("foo:3", "unknown noise 'foo'"),
        ("", "empty noise spec"),
        ("gaussian", "gaussian takes 1 parameter (SIGMA), got 0"),
        ("gaussian:", "takes 1 parameter"),
        ("gaussian:1,2", "gaussian takes 1 parameter (SIGMA), got 2"),
        ("poisson-gaussian:30", "poisson-gaussian takes 2 parameters (PEAK,SIGMA), got 1"),
        ("none:1", "none takes no parameters"),
        ("gaussian:abc", "could not read 'abc' as a number"),
        ("poisson-gaussian:30,", "could not read '' as a number"),
        ("gaussian:-1", "gaussian SIGMA must be >= 0, got -1"),
        ("speckle:-0.5", "speckle STD must be >= 0"),
        ("poisson-gaussian:0,5", "PEAK must be > 0"),
        ("salt-pepper:1.5", "FRACTION must be between 0 and 1"),
        ("gaussian:nan", "must be a finite number"),
        ("gaussian:inf", "must be a finite number"),
    ],
)
def test_bad_specs_raise_clear_errors(spec: str, fragment: str) -> None:
    with pytest.raises(NoiseSpecError) as info:
        parse_noise(spec)
    assert fragment in str(info.value)


def test_noise_spec_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        NoiseModel("gaussian", (1.0, 2.0))


def test_describe_is_one_line() -> None:
    for spec in SPECS:
        text = parse_noise(spec).describe()
        assert text and "\n" not in text
    assert "25/255" in parse_noise("gaussian:25").describe()


@pytest.mark.parametrize("spec", SPECS)
def test_same_seed_same_noise(spec: str) -> None:
    x = torch.rand(2, 3, 16, 16, generator=_gen(99))
    model = parse_noise(spec)
    a = model.apply(x, _gen(7))
    b = model.apply(x, _gen(7))
    assert torch.equal(a, b)
    assert a.shape == x.shape and a.dtype == x.dtype
    if spec != "none":
        assert not torch.equal(a, model.apply(x, _gen(8)))


def test_apply_does_not_modify_input() -> None:
    x = torch.rand(1, 3, 8, 8, generator=_gen())
    before = x.clone()
    for spec in SPECS:
        y = parse_noise(spec).apply(x, _gen())
        assert y is not x
    assert torch.equal(x, before)


def test_gaussian_std_matches_sigma() -> None:
    x = torch.full((4, 3, 64, 64), 0.5)
    noisy = parse_noise("gaussian:25").apply(x, _gen())
    residual = noisy - x
    assert abs(residual.std().item() - 25 / 255) < 0.002
    assert abs(residual.mean().item()) < 0.002


@pytest.mark.parametrize("spec", SPECS)
def test_noise_is_clipped_by_default_as_real_photos_are(spec: str) -> None:
    x = torch.rand(1, 3, 32, 32)
    noisy = parse_noise(spec).apply(x, _gen())
    assert noisy.min() >= 0 and noisy.max() <= 1


def test_the_classic_benchmarks_unclipped_form_is_kept() -> None:
    x = torch.zeros(1, 1, 64, 64)
    model = parse_noise("gaussian:50")
    assert model.apply(x, _gen(), clip=False).min() < 0


def test_salt_pepper_fraction_and_channels() -> None:
    x = torch.full((2, 3, 128, 128), 0.5)
    noisy = parse_noise("salt-pepper:0.05").apply(x, _gen())
    hit = noisy != 0.5
    # A pixel is hit in all its channels or in none.
    assert torch.equal(hit.all(dim=1), hit.any(dim=1))
    fraction = hit[:, 0].float().mean().item()
    assert abs(fraction - 0.05) < 0.005
    salt = (noisy[:, 0] == 1).float().mean().item()
    assert abs(salt - 0.025) < 0.004
    assert set(noisy[hit].unique().tolist()) <= {0.0, 1.0}


def test_poisson_gaussian_preserves_mean() -> None:
    x = torch.full((4, 1, 64, 64), 0.3)
    noisy = parse_noise("poisson-gaussian:30,5").apply(x, _gen())
    assert abs(noisy.mean().item() - 0.3) < 0.005
    # Variance: Poisson x/peak plus Gaussian (sigma/255)^2.
    expected_var = 0.3 / 30 + (5 / 255) ** 2
    assert abs(noisy.var().item() / expected_var - 1) < 0.05


def test_poisson_without_read_noise_gives_photon_levels() -> None:
    x = torch.rand(1, 1, 32, 32, generator=_gen())
    noisy = parse_noise("poisson-gaussian:10,0").apply(x, _gen())
    counts = noisy * 10
    assert torch.allclose(counts, counts.round(), atol=1e-5)


def test_speckle_is_multiplicative() -> None:
    x = torch.full((4, 1, 64, 64), 0.5)
    noisy = parse_noise("speckle:0.2").apply(x, _gen())
    assert abs((noisy / x - 1).std().item() - 0.2) < 0.01
    assert torch.equal(
        parse_noise("speckle:0.2").apply(torch.zeros(1, 1, 8, 8), _gen()), torch.zeros(1, 1, 8, 8)
    )


def test_none_returns_copy() -> None:
    x = torch.rand(1, 1, 4, 4, generator=_gen())
    assert torch.equal(parse_noise("none").apply(x, _gen()), x)


def test_apply_rejects_integer_images() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        parse_noise("gaussian:5").apply(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))


def test_apply_without_generator_works() -> None:
    x = torch.rand(1, 3, 8, 8)
    assert parse_noise("poisson-gaussian:30,5").apply(x).shape == x.shape


def test_float64_and_unbatched_inputs() -> None:
    x = torch.rand(3, 16, 16, dtype=torch.float64, generator=_gen())
    for spec in SPECS:
        y = parse_noise(spec).apply(x, _gen())
        assert y.dtype == torch.float64 and y.shape == x.shape


def test_mixed_noise_gives_each_image_its_own_strength() -> None:
    clean = torch.full((12, 3, 32, 32), 0.5)
    noisy = parse_noise("mixed:50").apply(clean, _gen(3))
    levels = (noisy - clean).flatten(1).std(dim=1) * 255
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert levels.max() > 2 * levels.min()  # not one strength for all
    assert levels.max() < 90
