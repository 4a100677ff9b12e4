"""DiffAugment: the authors' parameters, gradients to the input, seeded draws, the same transform
on a pair, and the refusal of an unknown policy."""

from __future__ import annotations

import pytest
import torch

from lit_gan.augment import DiffAugment, parse_policy
from lit_gan.errors import SettingError


def _images(n: int = 8, c: int = 3, size: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_policy_parsing_and_an_unknown_name_is_a_one_line_setting_error():
    assert parse_policy("color,translation,cutout") == ("color", "translation", "cutout")
    assert parse_policy(" translation , cutout ") == ("translation", "cutout")
    assert parse_policy("") == ()
    with pytest.raises(SettingError, match="unknown DiffAugment policy 'flip' in 'color,flip'") as err:
        DiffAugment("color,flip")
    assert "\n" not in str(err.value)


def test_an_empty_policy_returns_the_images_unchanged():
    x = _images()
    assert DiffAugment("")(x, generator=_seeded()) is x


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_gradients_flow_to_the_input(policy):
    x = _images().requires_grad_(True)
    out = DiffAugment(policy)(x, generator=_seeded())
    (out * torch.randn_like(out)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_the_same_generator_seed_gives_the_same_output_and_another_seed_another():
    augment, x = DiffAugment(), _images()
    a = augment(x, generator=_seeded(3))
    b = augment(x, generator=_seeded(3))
    c = augment(x, generator=_seeded(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_without_a_generator_the_draws_follow_the_global_torch_stream():
    augment, x = DiffAugment(), _images()
    torch.manual_seed(11)
    a = augment(x)
    torch.manual_seed(11)
    b = augment(x)
    c = augment(x)  # the stream moved on: another augmentation
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_a_pair_gets_the_same_translation_and_cutout():
    # the same image as condition and target (with different channel counts): equal outputs
    image = _images(c=3)
    condition = image[:, :1].clone()
    out_condition, out_image = DiffAugment("translation,cutout")(condition, image, generator=_seeded(5))
    torch.testing.assert_close(out_condition, out_image[:, :1])
    assert not torch.equal(out_image, image)


def test_a_pair_gets_the_same_colour_draws():
    # brightness shift shared: on two constant images the same offset (contrast/saturation leave constants)
    zeros, ones = torch.zeros(4, 1, 8, 8), torch.ones(4, 3, 8, 8)
    a, b = DiffAugment("color")(zeros, ones, generator=_seeded(2))
    torch.testing.assert_close(b[:, :1] - 1.0, a)


def test_brightness_range_and_translation_limit_follow_the_authors():
    n = 4096
    flat = torch.zeros(n, 1, 16, 16)
    shifted = DiffAugment("color")(flat, generator=_seeded(0))
    offsets = shifted[:, 0, 0, 0]  # a constant image: only the brightness offset remains
    assert -0.5 <= offsets.min() < -0.49 and 0.49 < offsets.max() <= 0.5
    # translation of a single lit pixel at the centre: it moves by at most round(16 / 8) = 2 per axis
    dot = torch.zeros(n, 1, 16, 16)
    dot[:, :, 8, 8] = 1.0
    moved = DiffAugment("translation")(dot, generator=_seeded(1))
    where = moved.flatten(1).argmax(dim=1)
    rows, cols = where // 16 - 8, where % 16 - 8
    assert set(rows.tolist()) == set(range(-2, 3)) and set(cols.tolist()) == set(range(-2, 3))


def test_cutout_zeroes_a_square_of_half_the_side():
    n = 512
    ones = torch.ones(n, 1, 16, 16)
    out = DiffAugment("cutout")(ones, generator=_seeded(0))
    zeroed = (out == 0).flatten(1).sum(dim=1)
    assert zeroed.max() == 8 * 8  # a whole 8 x 8 square when inside the image
    assert zeroed.min() >= 4 * 4  # its centre is in the image: at least a quarter of it stays in
    assert (zeroed < 64).any()  # and squares at the border are clipped


def test_mismatched_batches_are_refused():
    with pytest.raises(ValueError, match="same N, H and W"):
        DiffAugment()(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 4, 4), generator=_seeded())


def test_bf16_images_get_the_same_draws_as_float32():
    x = _images()
    a = DiffAugment()(x, generator=_seeded(7))
    b = DiffAugment()(x.bfloat16(), generator=_seeded(7))
    assert b.dtype == torch.bfloat16
    torch.testing.assert_close(b.float(), a, atol=0.05, rtol=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_draws_come_from_a_generator_on_the_images_device():
    x = _images().cuda()
    torch.manual_seed(3)
    a = DiffAugment()(x)
    torch.manual_seed(3)
    b = DiffAugment()(x)
    assert a.device == x.device and torch.equal(a, b)
