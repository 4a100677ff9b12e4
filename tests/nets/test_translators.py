"""What the pix2pix U-Net and the CycleGAN ResNet generator share (Isola et al. 2017, appendix 6.1;
Zhu et al. 2017, appendix 7.2): a tanh output in [-1, 1], weights drawn from N(0, 0.02), and a depth
that ``build_translator`` takes from the image size; image sizes they cannot give back are refused."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.nets import build_translator
from lit_gan.nets.resnet_generator import ResnetGenerator
from lit_gan.nets.unet import UNetGenerator
from tests.nets.modules import modules_of as _of

# name -> (a small generator from keyword options, its output conv, an image side it takes)
TRANSLATORS = {
    "resnet": (lambda **kw: ResnetGenerator(3, 3, n_blocks=2, **kw), lambda g: g.net[-2], 32),
    "unet": (lambda **kw: UNetGenerator(3, 3, num_downs=6, **kw), lambda g: g.final[0], 64),
}


@pytest.mark.parametrize("name", TRANSLATORS)
def test_output_is_tanh_bounded_and_saturates(name):
    make, output_conv, size = TRANSLATORS[name]
    torch.manual_seed(0)
    g = make(features=4)
    x = torch.randn(2, 3, size, size)
    assert g(x).abs().max() <= 1.0
    with torch.no_grad():
        output_conv(g).weight.mul_(1000.0)
    y = g(x)
    assert y.abs().max() <= 1.0 and y.min() < -0.99 and y.max() > 0.99


@pytest.mark.parametrize("name, features", [("resnet", 16), ("unet", 32)])
def test_init_is_normal_0_002_with_batchnorm_near_identity(name, features):
    torch.manual_seed(0)
    g = TRANSLATORS[name][0](features=features, norm="batch")
    for conv in _of(g, (nn.Conv2d, nn.ConvTranspose2d)):
        if conv.weight.numel() >= 10_000:
            assert abs(conv.weight.std().item() - 0.02) < 0.001, conv
            assert abs(conv.weight.mean().item()) < 0.001, conv
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) == 0
    norms = _of(g, nn.BatchNorm2d)
    scales = torch.cat([bn.weight.detach() for bn in norms])
    assert abs(scales.mean().item() - 1.0) < 0.005 and 0.01 < scales.std().item() < 0.03
    assert all(torch.count_nonzero(bn.bias) == 0 for bn in norms)


@pytest.mark.parametrize("name, kind, depth_attribute, size, depth", [
    *(("resnet", ResnetGenerator, "n_blocks", size, n) for size, n in [(64, 6), (128, 6), (256, 9)]),
    *(("unet", UNetGenerator, "num_downs", size, n) for size, n in [(64, 6), (128, 7), (256, 8)]),
])
def test_build_takes_the_depth_from_the_image_size(name, kind, depth_attribute, size, depth):
    g = build_translator(name, 3, 3, size, {"features": 4})
    assert isinstance(g, kind) and getattr(g, depth_attribute) == depth


@pytest.mark.parametrize("name, h, w, message", [
    *(("resnet", h, w, "multiples of 4 and at least 8") for h, w in [(30, 32), (4, 4), (32, 6)]),
    *(("unet", h, w, r"multiples of 2\*\*6 = 64") for h, w in [(100, 100), (32, 32), (64, 96)]),
])
def test_sizes_that_do_not_come_back_are_refused(name, h, w, message):
    g = TRANSLATORS[name][0](features=4)
    with pytest.raises(ValueError, match=rf"{message}.*got {h}x{w}"):
        g(torch.randn(1, 3, h, w))
