"""The compare view's clean reference, brought to the image's channels and bit depth."""

from __future__ import annotations

import numpy as np
import pytest

from aestudio.core.data.resize import match_channels
from aestudio.core.denoise.inputs import read_reference
from aestudio.core.errors import UserError
from aestudio.core.facts import LUMA_WEIGHTS
from aestudio.core.io.write import write_image


def test_a_colour_reference_of_a_gray_16_bit_image_is_made_gray_and_16_bit(tmp_path):
    rgb = np.zeros((6, 5, 3), np.uint8)
    rgb[..., 0] = 200
    write_image(tmp_path / "ref.png", rgb)
    out = read_reference(tmp_path / "ref.png", (6, 5, 1), np.dtype(np.uint16))
    assert out.shape == (6, 5, 1) and out.dtype == np.uint16
    expected = round(200 * LUMA_WEIGHTS[0]) * 257
    assert abs(int(out[0, 0, 0]) - expected) <= 257


def test_a_reference_of_another_size_is_refused(tmp_path):
    write_image(tmp_path / "ref.png", np.zeros((4, 4, 1), np.uint8))
    with pytest.raises(UserError, match="the reference is 4 × 4 pixels"):
        read_reference(tmp_path / "ref.png", (6, 5, 1), np.dtype(np.uint8))


def test_match_channels_both_ways():
    gray = np.full((2, 2, 1), 90, np.uint8)
    assert match_channels(gray, 3).shape == (2, 2, 3)
    assert match_channels(match_channels(gray, 3), 1).tolist() == gray.tolist()
