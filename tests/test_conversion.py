"""[-1, 1] -> uint8 at the edges: clamp then round, never wrap."""

from __future__ import annotations

import pytest
import torch

from lit_gan.conversion import to_rgb, to_uint8, uint8_to_unit_range


@pytest.mark.parametrize("value, expected", [
    (-1.0, 0), (-0.999, 0), (0.999, 255), (1.0, 255),     # the ends of the range
    (-1.5, 0), (1.5, 255), (-100.0, 0), (7.0, 255),        # out of range: clamped
    (-0.01, 126), (0.0, 128),                              # .byte() of (x+1)/2*255 would give 126 / 127; (x*255).byte() wraps -0.01 to 254
    (-1 + 2 / 255, 1), (1 - 2 / 255, 254),                 # one level (2/255) in from each end
    (-1 + 1 / 255, 0), (-1 + 1.01 / 255, 1),               # half a level rounds to even; just past it rounds up
])
def test_to_uint8_edges(value, expected):
    assert to_uint8(torch.tensor([value])).item() == expected


def test_to_uint8_round_trips_every_level():
    levels = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(to_uint8(uint8_to_unit_range(levels)), levels)
    assert to_uint8(levels) is levels  # uint8 passes unchanged


def test_to_uint8_rejects_integer_images():
    with pytest.raises(TypeError, match="float images"):
        to_uint8(torch.zeros(2, dtype=torch.int64))


def test_to_rgb_repeats_grey_and_keeps_colour():
    grey = torch.arange(4, dtype=torch.uint8).view(1, 1, 2, 2)
    rgb = to_rgb(grey)
    assert rgb.shape == (1, 3, 2, 2) and all(torch.equal(rgb[:, c], grey[:, 0]) for c in range(3))
    colour = torch.zeros(1, 3, 2, 2)
    assert to_rgb(colour) is colour
    with pytest.raises(ValueError, match="1 or 3"):
        to_rgb(torch.zeros(1, 2, 2, 2))
