"""The linear probe: separable codes score near 1, codes without label information near chance."""

from __future__ import annotations

import numpy as np
import pytest

from aestudio.core.latent.probe import linear_probe


def test_separable_codes_are_classified_and_noise_is_at_chance() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 800)
    centres = rng.normal(0, 5, (4, 6))
    codes = centres[labels] + rng.normal(0, 0.5, (800, 6))
    good = linear_probe(codes, labels.astype(str))
    assert good.accuracy > 0.97 and good.n_test == 160 and good.n_fit == 640
    blind = linear_probe(rng.normal(0, 1, (800, 6)), labels)
    assert blind.accuracy < blind.chance + 0.1
    assert "linear probe: accuracy" in good.line()


def test_one_label_or_too_few_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="two different labels"):
        linear_probe(np.zeros((10, 2)), ["a"] * 10)
    with pytest.raises(ValueError, match="too few"):
        linear_probe(np.zeros((3, 2)), ["a", "b", "a"])
