"""pix2pix U-Net (Isola et al. 2017, appendix 6.1.1): shapes, skips, dropout, errors (output range and init:
tests/nets/test_translators.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.nets import build_translator
from lit_gan.nets.unet import UNetGenerator, unet_128, unet_256, unet_depth_for
from tests.nets.modules import modules_of as _of

DEPTH_FOR_SIZE = [(64, 6), (128, 7), (256, 8)]


# ---- shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("size, num_downs", DEPTH_FOR_SIZE)
def test_shape_per_size_with_a_1x1_bottleneck(size, num_downs):
    torch.manual_seed(0)
    g = UNetGenerator(3, 3, num_downs=num_downs, features=8)
    seen = []
    g.down[-1].register_forward_hook(lambda m, i, o: seen.append(o.shape))  # append returns None: output kept
    y = g(torch.randn(1, 3, size, size))
    assert y.shape == (1, 3, size, size)
    assert seen == [(1, 64, 1, 1)]  # 8 * features after num_downs halvings


def test_channels_and_non_square_images():
    g = UNetGenerator(in_channels=1, out_channels=2, num_downs=5, features=4)  # colorization: L -> ab
    assert g(torch.randn(2, 1, 32, 96)).shape == (2, 2, 32, 96)


def test_named_depths():
    assert unet_256(features=4).num_downs == 8
    assert unet_128(in_channels=1, features=4).num_downs == 7


@pytest.mark.parametrize("size, depth", [*DEPTH_FOR_SIZE, (96, 5), (512, 8), (2, 1)])
def test_depth_for_size(size, depth):
    assert unet_depth_for(size) == depth


# ---- the appendix's architecture ---------------------------------------------------------
def test_widths_follow_appendix_6_1_1():
    f = 8  # the paper's f = 64 gives C64-C128-C256-C512-C512-C512-C512-C512
    g = UNetGenerator(3, 3, num_downs=8, features=f)
    enc = [layer[0] for layer in g.down]
    dec = [layer[0] for layer in g.up]
    assert [c.out_channels for c in enc] == [f * m for m in (1, 2, 4, 8, 8, 8, 8, 8)]
    assert [c.out_channels for c in dec] == [f * m for m in (8, 8, 8, 8, 4, 2, 1)]  # CD512-CD512-CD512-C512-C256-C128-C64
    # every decoder layer after the first reads its input concatenated with the mirrored encoder layer
    assert [c.in_channels for c in dec] == [f * m for m in (8, 16, 16, 16, 16, 8, 4)]
    assert g.final[0].in_channels == 2 * f and g.final[0].out_channels == 3
    for conv in _of(g, (nn.Conv2d, nn.ConvTranspose2d)):
        assert conv.kernel_size == (4, 4) and conv.stride == (2, 2) and conv.padding == (1, 1)


def test_norm_and_activations_where_the_appendix_puts_them():
    g = UNetGenerator(3, 3, num_downs=6, features=4)
    has_norm = [any(isinstance(m, nn.BatchNorm2d) for m in layer) for layer in g.down]
    assert has_norm == [False, True, True, True, True, False]  # none on C64, none on the 1x1 bottleneck
    assert all(isinstance(layer[1], nn.BatchNorm2d) for layer in g.up)
    for layer in g.down:
        assert isinstance(layer[-1], nn.LeakyReLU) and layer[-1].negative_slope == pytest.approx(0.2)
    for layer in g.up:
        assert type(layer[-1]) is nn.ReLU  # the decoder's ReLUs are not leaky
    assert isinstance(g.final[-1], nn.Tanh)
    assert not _of(g, nn.Sigmoid)


@pytest.mark.parametrize("norm, kind", [("instance", nn.InstanceNorm2d), ("layer", nn.GroupNorm)])
def test_norm_choice(norm, kind):
    g = UNetGenerator(3, 3, num_downs=6, features=4, norm=norm)
    assert len(_of(g, kind)) == 4 + 5 and not _of(g, nn.BatchNorm2d)
    plain = UNetGenerator(3, 3, num_downs=6, features=4, norm="none")
    assert all(c.bias is not None for c in _of(plain, (nn.Conv2d, nn.ConvTranspose2d)))


# ---- skip connections --------------------------------------------------------------------
def _zero_output(module: nn.Module):
    return module.register_forward_hook(lambda m, i, o: torch.zeros_like(o))


def test_input_reaches_the_output_through_the_skips_when_the_bottleneck_is_zeroed():
    torch.manual_seed(0)
    g = UNetGenerator(3, 3, num_downs=6, features=4, dropout=False).eval()
    x1, x2 = torch.randn(2, 1, 3, 64, 64)
    _zero_output(g.down[-1])
    assert not torch.allclose(g(x1), g(x2), atol=1e-4)
    # control: with every encoder output zeroed nothing of the input is left, so the test can fail
    for layer in g.down[:-1]:
        _zero_output(layer)
    torch.testing.assert_close(g(x1), g(x2))


# ---- dropout -----------------------------------------------------------------------------
def test_dropout_on_the_three_innermost_decoder_layers_only():
    g = UNetGenerator(3, 3, num_downs=8, features=4)
    drops = [[m for m in layer if isinstance(m, nn.Dropout)] for layer in g.up]
    assert [len(d) for d in drops] == [1, 1, 1, 0, 0, 0, 0]
    assert all(d[0].p == 0.5 for d in drops[:3])
    assert not _of(UNetGenerator(3, 3, num_downs=8, features=4, dropout=False), nn.Dropout)


def test_dropout_is_active_in_train_mode_and_off_in_eval():
    torch.manual_seed(0)
    g = UNetGenerator(3, 3, num_downs=6, features=4)
    x = torch.randn(2, 3, 64, 64)
    assert not torch.allclose(g(x), g(x))  # BatchNorm in train mode is deterministic: only dropout differs
    g.eval()
    torch.testing.assert_close(g(x), g(x))
    no_drop = UNetGenerator(3, 3, num_downs=6, features=4, dropout=False)
    torch.testing.assert_close(no_drop(x), no_drop(x))


# ---- errors ------------------------------------------------------------------------------
def test_other_bad_inputs():
    with pytest.raises(ValueError, match="num_downs >= 2"):
        UNetGenerator(num_downs=1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        UNetGenerator(num_downs=2, features=4)(torch.randn(3, 8, 8))
    with pytest.raises(ValueError, match="got 63"):
        unet_depth_for(63)


# ---- built by name ------------------------------------------------------------------------
def test_build_named_unets_and_their_errors():
    assert build_translator("unet_256", 3, 3, 256, {"features": 4}).num_downs == 8
    assert build_translator("unet", 3, 3, 256, {"features": 4, "num_downs": 5}).num_downs == 5
    with pytest.raises(ValueError, match=r"multiples of 2\*\*8 = 256; got 128x128"):
        build_translator("unet_256", 3, 3, 128, {"features": 4})
    with pytest.raises(ValueError, match="'unet_128' translator has num_downs=7"):
        build_translator("unet_128", 3, 3, 128, {"num_downs": 6})
    with pytest.raises(ValueError, match=r"Bad translator_options .*'feature'"):
        build_translator("unet", 3, 3, 64, {"feature": 4})
    with pytest.raises(ValueError, match="Unknown translator 'vit'"):
        build_translator("vit", 3, 3, 64, {})
