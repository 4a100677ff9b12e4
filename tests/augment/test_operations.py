"""DiffAugment's operations on hand-made tiny images: exact values for known parameters."""

from __future__ import annotations

import torch

from lit_gan.augment.operations import add_brightness, cut_out, scale_contrast, scale_saturation, translate


def _grid(n: int = 1, c: int = 1, h: int = 4, w: int = 4) -> torch.Tensor:
    """Pixel values 1, 2, ... so every pixel is recognisable (0 is the fill)."""
    return torch.arange(1, n * c * h * w + 1, dtype=torch.float32).view(n, c, h, w)


def test_translate_by_a_known_shift_moves_content_and_fills_zeros():
    x = _grid()  # rows [1..4], [5..8], [9..12], [13..16]
    out = translate(x, torch.tensor([1]), torch.tensor([-2]))  # out[i, j] = x[i + 1, j - 2]
    expected = torch.tensor([[0, 0, 5, 6], [0, 0, 9, 10], [0, 0, 13, 14], [0, 0, 0, 0]], dtype=torch.float32)
    torch.testing.assert_close(out[0, 0], expected)


def test_translate_is_per_sample_and_per_channel_alike():
    x = _grid(n=2, c=2)
    out = translate(x, torch.tensor([0, -1]), torch.tensor([0, 0]))
    torch.testing.assert_close(out[0], x[0])  # no shift
    torch.testing.assert_close(out[1, :, 1:], x[1, :, :-1])  # content moves down one row
    assert (out[1, :, 0] == 0).all()


def test_translate_beyond_the_image_gives_zeros():
    assert (translate(_grid(), torch.tensor([9]), torch.tensor([0])) == 0).all()


def test_cut_out_zeroes_the_rectangle_and_clips_it_at_the_border():
    x = _grid(n=2, c=2)
    out = cut_out(x, top=torch.tensor([1, -1]), left=torch.tensor([1, 3]), height=2, width=2)
    mask0 = torch.ones(4, 4)
    mask0[1:3, 1:3] = 0
    mask1 = torch.ones(4, 4)
    mask1[0:1, 3:4] = 0  # rows -1..0 and cols 3..4, inside the image: (0, 3) only
    torch.testing.assert_close(out[0], x[0] * mask0)
    torch.testing.assert_close(out[1], x[1] * mask1)


def test_brightness_adds_one_offset_per_image():
    x = torch.zeros(2, 3, 2, 2)
    out = add_brightness(x, torch.tensor([0.25, -0.5]))
    assert (out[0] == 0.25).all() and (out[1] == -0.5).all()


def test_saturation_scales_the_distance_to_each_pixels_channel_mean():
    x = torch.tensor([0.0, 0.3, 0.6]).view(1, 3, 1, 1)  # gray value 0.3
    torch.testing.assert_close(scale_saturation(x, torch.tensor([0.0])), torch.full_like(x, 0.3))
    doubled = torch.tensor([-0.3, 0.3, 0.9]).view(1, 3, 1, 1)
    torch.testing.assert_close(scale_saturation(x, torch.tensor([2.0])), doubled)
    gray = torch.rand(1, 1, 3, 3)  # one channel: nothing to saturate
    torch.testing.assert_close(scale_saturation(gray, torch.tensor([1.7])), gray)


def test_contrast_scales_the_distance_to_the_image_mean():
    x = torch.tensor([0.0, 1.0, 2.0, 3.0]).view(1, 1, 2, 2)  # mean 1.5
    out = scale_contrast(x, torch.tensor([0.5]))
    torch.testing.assert_close(out, torch.tensor([0.75, 1.25, 1.75, 2.25]).view(1, 1, 2, 2))
