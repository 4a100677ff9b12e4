"""PatchGAN / PixelGAN discriminators (Isola et al. 2017, appendix 6.1.2) and receptive fields."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.nets import build_patch_discriminator
from lit_gan.nets.patchgan import PatchDiscriminator, PixelDiscriminator, min_input_size, receptive_field

PATCH_FOR_N_LAYERS = [(1, 16), (3, 70), (5, 286)]  # pix2pix Table 3's 16x16, 70x70, 286x286


def _of(module: nn.Module, kind) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


# ---- receptive_field on stacks with known answers --------------------------------------------
@pytest.mark.parametrize(
    "layers, expected",
    [
        ([nn.Conv2d(1, 1, 3)], 3),
        ([nn.Conv2d(1, 1, 3, padding=1)] * 2, 5),  # two 3x3 convs see 5x5 (VGG)
        ([nn.Conv2d(1, 1, 3, padding=1)] * 3, 7),
        ([nn.Conv2d(1, 1, 3, 2), nn.Conv2d(1, 1, 3)], 7),  # the second conv's 3 units are 2 apart: 2 * 2 + 3
        ([nn.Conv2d(1, 1, 3, dilation=2)], 5),
        ([nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)], 6),
        ([nn.Conv2d(1, 1, 1), nn.ReLU(), nn.Conv2d(1, 1, 1)], 1),
    ],
)
def test_receptive_field_of_small_stacks(layers, expected):
    assert receptive_field(layers) == expected
    assert receptive_field(nn.Sequential(*layers)) == expected


def test_receptive_field_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="ConvTranspose2d"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 3)))
    with pytest.raises(ValueError, match="no Conv2d"):
        receptive_field(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match=r"square kernels only.*\(3, 1\)"):
        receptive_field([nn.Conv2d(1, 1, (3, 1))])


# ---- the PatchGANs' receptive fields, computed and measured -----------------------------------
@pytest.mark.parametrize("n_layers, patch", PATCH_FOR_N_LAYERS)
def test_patchgan_receptive_field_is_the_patch_size(n_layers, patch):
    assert receptive_field(PatchDiscriminator(6, features=4, n_layers=n_layers)) == patch


def test_pixelgan_receptive_field_is_one_pixel():
    assert receptive_field(PixelDiscriminator(6, features=4)) == 1


@pytest.mark.parametrize("n_layers, patch, size", [(1, 16, 48), (3, 70, 128), (5, 286, 320)])
def test_measured_receptive_field_matches_the_computed_one(n_layers, patch, size):
    # the input pixels one central logit has a gradient for span exactly `patch` rows and columns
    torch.manual_seed(0)
    d = PatchDiscriminator(1, features=2, n_layers=n_layers, norm="none").double()
    x = torch.randn(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    out = d(x)
    h, w = out.shape[-2:]
    out[0, 0, h // 2, w // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().flatten()
    cols = x.grad[0, 0].abs().sum(0).nonzero().flatten()
    assert rows[0] > 0 and rows[-1] < size - 1  # not clipped by the border
    assert rows[-1] - rows[0] + 1 == patch and cols[-1] - cols[0] + 1 == patch


def test_pixelgan_logits_depend_on_their_own_pixel_only():
    torch.manual_seed(0)
    d = PixelDiscriminator(3, features=4, norm="none")
    x = torch.randn(1, 3, 8, 8)
    y = x.clone()
    y[..., 2, 5] += 1.0
    changed = (d(x) != d(y))[0, 0]
    assert changed.nonzero().tolist() == [[2, 5]]


# ---- output maps ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "n_layers, size, side",
    [(3, 256, 30), (3, 128, 14), (3, 64, 6), (1, 256, 126), (1, 128, 62), (1, 64, 30), (5, 256, 6), (5, 128, 2)],
)
def test_patch_map_size(n_layers, size, side):
    d = PatchDiscriminator(6, features=2, n_layers=n_layers)
    assert d(torch.randn(2, 6, size, size)).shape == (2, 1, side, side)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_pixelgan_map_is_the_image_size(size):
    assert PixelDiscriminator(6, features=4)(torch.randn(2, 6, size, size)).shape == (2, 1, size, size)


@pytest.mark.parametrize("n_layers, smallest", [(1, 6), (3, 24), (5, 96)])
def test_smallest_input_is_computed_and_smaller_ones_refused(n_layers, smallest):
    d = PatchDiscriminator(3, features=2, n_layers=n_layers)
    assert min_input_size(d) == d.min_size == smallest
    assert d(torch.randn(1, 3, smallest, smallest)).shape == (1, 1, 1, 1)
    with pytest.raises(ValueError, match=rf"n_layers={n_layers} needs H and W of at least {smallest}; got"):
        d(torch.randn(1, 3, smallest - 1, smallest + 10))


# ---- the appendix's architecture ------------------------------------------------------------
def test_70x70_is_c64_c128_c256_c512_then_one_channel():
    d = PatchDiscriminator(6, features=64, n_layers=3)
    convs = _of(d, nn.Conv2d)
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (6, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 1), (512, 1, 1),
    ]
    assert all(c.kernel_size == (4, 4) and c.padding == (1, 1) for c in convs)


def test_286x286_widths_stop_at_512():
    convs = _of(PatchDiscriminator(3, features=64, n_layers=5), nn.Conv2d)
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 512, 512, 1]


@pytest.mark.parametrize("d", [PatchDiscriminator(6, features=4), PixelDiscriminator(6, features=4)], ids=["patch", "pixel"])
def test_no_norm_on_first_layer_leaky_relu_02_no_sigmoid(d):
    layers = list(d.net)
    assert isinstance(layers[0], nn.Conv2d) and isinstance(layers[1], nn.LeakyReLU)
    assert all(r.negative_slope == pytest.approx(0.2) for r in _of(d, nn.LeakyReLU))
    assert isinstance(layers[-1], nn.Conv2d) and layers[-1].out_channels == 1
    assert not _of(d, (nn.Sigmoid, nn.Tanh, nn.ReLU))


def test_pixelgan_is_c64_c128_of_1x1_convs():
    convs = _of(PixelDiscriminator(6), nn.Conv2d)
    assert [(c.in_channels, c.out_channels) for c in convs] == [(6, 64), (64, 128), (128, 1)]
    assert all(c.kernel_size == (1, 1) for c in convs)


@pytest.mark.parametrize("norm, kind, count", [("batch", nn.BatchNorm2d, 3), ("instance", nn.InstanceNorm2d, 3)])
def test_norm_choice(norm, kind, count):
    d = PatchDiscriminator(3, features=4, norm=norm)
    assert len(_of(d, kind)) == count
    assert all(c.bias is None for c in _of(d, nn.Conv2d)[1:-1])
    assert all(c.bias is not None for c in _of(PatchDiscriminator(3, features=4, norm="none"), nn.Conv2d))


def test_init_is_normal_0_002():
    torch.manual_seed(0)
    for d in (PatchDiscriminator(6, features=32), PixelDiscriminator(6, features=128)):
        for conv in _of(d, nn.Conv2d):
            if conv.weight.numel() >= 10_000:
                assert abs(conv.weight.std().item() - 0.02) < 0.001, conv
            if conv.bias is not None:
                assert torch.count_nonzero(conv.bias) == 0
        scales = torch.cat([bn.weight.detach() for bn in _of(d, nn.BatchNorm2d)])
        assert abs(scales.mean().item() - 1.0) < 0.01 and 0.01 < scales.std().item() < 0.03


def test_n_layers_0_points_to_the_pixelgan():
    with pytest.raises(ValueError, match=r"n_layers >= 1.*PixelDiscriminator \('pixelgan'\)"):
        PatchDiscriminator(3, n_layers=0)


# ---- built by name ------------------------------------------------------------------------------
def test_build_patch_discriminators_by_name():
    d = build_patch_discriminator("patchgan", 6, {"features": 4, "n_layers": 1, "norm": "instance"})
    assert isinstance(d, PatchDiscriminator) and receptive_field(d) == 16
    p = build_patch_discriminator("pixelgan", 6, {"features": 4})
    assert isinstance(p, PixelDiscriminator) and p(torch.randn(1, 6, 8, 8)).shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match=r"Bad discriminator_options .*'n_layers'.* for the 'pixelgan'"):
        build_patch_discriminator("pixelgan", 6, {"n_layers": 3})
    with pytest.raises(ValueError, match="Unknown patch discriminator 'dcgan'"):
        build_patch_discriminator("dcgan", 6, {})
