"""CycleGAN ResNet generator (Zhu et al. 2017, appendix 7.2): shapes, layout, padding (output range and init:
tests/nets/test_translators.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.nets import build_translator
from lit_gan.nets.resnet_generator import (
    ResidualBlock,
    ResnetGenerator,
    resnet_6blocks,
    resnet_9blocks,
    resnet_blocks_for,
)
from tests.nets.modules import modules_of as _of

BLOCKS_FOR_SIZE = [(64, 6), (128, 6), (256, 9)]


# ---- shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("size, n_blocks", BLOCKS_FOR_SIZE)
def test_shape_per_size(size, n_blocks):
    torch.manual_seed(0)
    g = ResnetGenerator(3, 3, features=4, n_blocks=n_blocks)
    assert len(_of(g, ResidualBlock)) == n_blocks
    seen = []
    for block in _of(g, ResidualBlock):
        block.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    assert g(torch.randn(1, 3, size, size)).shape == (1, 3, size, size)
    assert seen == [(1, 16, size // 4, size // 4)] * n_blocks  # R256 at a quarter of the side


def test_channels_and_non_square_images():
    g = ResnetGenerator(in_channels=1, out_channels=3, features=4, n_blocks=2)
    assert g(torch.randn(2, 1, 32, 48)).shape == (2, 3, 32, 48)


@pytest.mark.parametrize("size, n_blocks", [*BLOCKS_FOR_SIZE, (32, 6), (512, 9)])
def test_blocks_for_size(size, n_blocks):
    assert resnet_blocks_for(size) == n_blocks


def test_named_depths():
    assert resnet_9blocks(features=4).n_blocks == 9
    assert resnet_6blocks(features=4).n_blocks == 6


# ---- the appendix's layout -----------------------------------------------------------------
def test_layout_c7s1_d_d_r_u_u_c7s1():
    f = 4  # the paper's f = 64 gives c7s1-64, d128, d256, R256, u128, u64, c7s1-3
    g = ResnetGenerator(3, 2, features=f, n_blocks=2)
    top = [m for m in g.net if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, ResidualBlock))]
    geometry = [
        (type(m).__name__, m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0])
        for m in top
        if not isinstance(m, ResidualBlock)
    ]
    assert geometry == [
        ("Conv2d", 3, f, 7, 1),  # c7s1-64
        ("Conv2d", f, 2 * f, 3, 2),  # d128
        ("Conv2d", 2 * f, 4 * f, 3, 2),  # d256
        ("ConvTranspose2d", 4 * f, 2 * f, 3, 2),  # u128
        ("ConvTranspose2d", 2 * f, f, 3, 2),  # u64
        ("Conv2d", f, 2, 7, 1),  # c7s1-out
    ]
    assert [type(m).__name__ for m in top][3:5] == ["ResidualBlock"] * 2
    for up in _of(g, nn.ConvTranspose2d):
        assert up.padding == (1, 1) and up.output_padding == (1, 1)
    assert isinstance(g.net[-1], nn.Tanh)
    assert not _of(g, (nn.Sigmoid, nn.LeakyReLU, nn.Dropout))


def test_reflection_padding_on_every_stride_1_conv():
    g = ResnetGenerator(3, 3, features=4, n_blocks=3)
    pads = _of(g, nn.ReflectionPad2d)
    assert [p.padding for p in pads] == [(3, 3, 3, 3)] + [(1, 1, 1, 1)] * 6 + [(3, 3, 3, 3)]
    layers = [m for m in g.modules() if not isinstance(m, (nn.Sequential, ResidualBlock, ResnetGenerator))]
    for i, m in enumerate(layers):
        if isinstance(m, nn.Conv2d) and m.stride == (1, 1):
            assert m.padding == (0, 0) and isinstance(layers[i - 1], nn.ReflectionPad2d), m
    assert not _of(g, nn.ZeroPad2d)


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    block = ResidualBlock(4)
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(block(x), x + block.body(x))
    assert not torch.allclose(block(x), x)
    assert not isinstance(block.body[-1], nn.ReLU)  # no ReLU after the sum or before it


def test_instance_norm_by_default_without_affine_or_running_stats():
    g = ResnetGenerator(3, 3, features=4, n_blocks=2)
    norms = _of(g, nn.InstanceNorm2d)
    assert len(norms) == 3 + 2 * 2 + 2  # c7s1, d, d, two per block, u, u; none on the output layer
    assert all(not n.affine and not n.track_running_stats for n in norms)
    assert len(_of(ResnetGenerator(3, 3, features=4, n_blocks=2, norm="batch"), nn.BatchNorm2d)) == len(norms)


def test_instance_norm_makes_each_sample_independent_of_the_batch():
    torch.manual_seed(0)
    g = ResnetGenerator(3, 3, features=4, n_blocks=2)
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(g(x)[:1], g(x[:1]))


# ---- building by name ----------------------------------------------------------------------
def test_build_named_resnets_and_their_errors():
    assert build_translator("resnet_9blocks", 3, 3, 128, {"features": 4}).n_blocks == 9
    assert build_translator("resnet", 3, 3, 256, {"features": 4, "n_blocks": 3}).n_blocks == 3
    with pytest.raises(ValueError, match="'resnet_6blocks' translator has n_blocks=6"):
        build_translator("resnet_6blocks", 3, 3, 128, {"n_blocks": 9})
    with pytest.raises(ValueError, match="got 30x30"):
        build_translator("resnet", 3, 3, 30, {"features": 4})
    with pytest.raises(ValueError, match="Unknown norm 'group'"):
        build_translator("resnet", 3, 3, 64, {"norm": "group"})
