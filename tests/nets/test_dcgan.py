"""DCGAN nets (Radford et al. 2015): shapes per image size, the paper's rules, N(0, 0.02) init."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from lit_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator, stages_for

SIZES = [28, 32, 64, 128]
POOLING = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.LPPool2d)
NORMS = (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)


def _of(module: nn.Module, kind) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


# ---- stages_for ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "size, expected",
    [(8, (4, 1)), (14, (7, 1)), (16, (4, 2)), (28, (7, 2)), (32, (4, 3)), (56, (7, 3)), (64, (4, 4)), (128, (4, 5))],
)
def test_stages_for_halves_down_to_4_or_7(size, expected):
    base, n_up = stages_for(size)
    assert (base, n_up) == expected
    assert base * 2**n_up == size


# 30 -> 15 (odd, not 4/7); 48 -> 24 -> 12 -> 6 (stops at 6); 4 and 7 need no upsampling (n_up 0);
# 12 -> 6; 100 -> 50 -> 25; 36 -> 18 -> 9.
@pytest.mark.parametrize("size", [4, 7, 12, 30, 36, 48, 100, 1, 0])
def test_stages_for_rejects_other_sizes_with_a_clear_message(size):
    with pytest.raises(ValueError, match=rf"got {size}\b.*image_size"):
        stages_for(size)


def test_bad_size_raises_from_both_nets():
    with pytest.raises(ValueError, match="got 48"):
        DCGANGenerator(image_size=48, channels=1, features=8)
    with pytest.raises(ValueError, match="got 30"):
        DCGANDiscriminator(image_size=30, channels=1, features=8)


# ---- shapes -------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_generator_shape_and_tanh_range(size, channels):
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=16, image_size=size, channels=channels, features=8)
    x = g(torch.randn(2, 16))
    assert x.shape == (2, channels, size, size)
    assert x.abs().max() <= 1.0
    with torch.no_grad():
        g.net[-2].weight.mul_(1000.0)  # blow up the output conv: tanh saturates but stays in [-1, 1]
    x = g(torch.randn(2, 16))
    assert x.abs().max() <= 1.0
    assert x.min() < -0.99 and x.max() > 0.99


def test_generator_accepts_z_as_a_4d_map():
    g = DCGANGenerator(latent_dim=16, image_size=32, channels=3, features=8).eval()
    z = torch.randn(3, 16)
    torch.testing.assert_close(g(z), g(z.view(3, 16, 1, 1)))


@pytest.mark.parametrize("norm", ["batch", "layer", "instance", "none"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_discriminator_gives_one_logit_per_sample(size, channels, norm):
    d = DCGANDiscriminator(image_size=size, channels=channels, features=8, norm=norm)
    out = d(torch.randn(3, channels, size, size))
    assert out.shape == (3,)
    assert torch.isfinite(out).all()


def test_discriminator_is_per_sample_without_batchnorm():
    # "layer"/"none" critics: a sample's logit does not depend on the rest of the batch
    for norm in ("layer", "none"):
        d = DCGANDiscriminator(image_size=28, channels=1, features=8, norm=norm)
        x = torch.randn(4, 1, 28, 28)
        torch.testing.assert_close(d(x)[:1], d(x[:1]))


def test_generator_64_widths_follow_fig_1():
    # 64 px, features f: 8f at 4x4, then 4f, 2f, f, then the image (Fig. 1 with f = 128 -> 1024)
    g = DCGANGenerator(latent_dim=100, image_size=64, channels=3, features=8)
    convs = _of(g, nn.ConvTranspose2d)
    assert [(c.in_channels, c.out_channels) for c in convs] == [(100, 64), (64, 32), (32, 16), (16, 8), (8, 3)]
    assert convs[0].kernel_size == (4, 4) and convs[0].stride == (1, 1)
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs[1:])


def test_generator_28_starts_from_a_7x7_map():
    g = DCGANGenerator(latent_dim=10, image_size=28, channels=1, features=8)
    first = g.net[:3](torch.randn(2, 10, 1, 1))
    assert first.shape == (2, 16, 7, 7)


def test_discriminator_widths_double_per_stage():
    d = DCGANDiscriminator(image_size=64, channels=3, features=8)
    convs = _of(d, nn.Conv2d)
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 8), (8, 16), (16, 32), (32, 64), (64, 1)]


# ---- the paper's architecture rules --------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
def test_no_pooling_and_no_hidden_linear_layers(size):
    for net in (DCGANGenerator(image_size=size, channels=3, features=8), DCGANDiscriminator(image_size=size, channels=3, features=8)):
        assert not _of(net, POOLING)
        assert not _of(net, nn.Linear)


@pytest.mark.parametrize("size", SIZES)
def test_generator_uses_batchnorm_relu_and_ends_in_tanh(size):
    g = DCGANGenerator(image_size=size, channels=3, features=8)
    layers = list(g.net)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.ConvTranspose2d)]
    # every hidden conv is followed by BatchNorm and ReLU; the output conv by tanh only
    for i in convs[:-1]:
        assert isinstance(layers[i + 1], nn.BatchNorm2d)
        assert isinstance(layers[i + 2], nn.ReLU)
    assert isinstance(layers[-1], nn.Tanh) and layers[-2] is layers[convs[-1]]
    assert not _of(g, (nn.LeakyReLU, nn.Sigmoid))
    assert len(_of(g, nn.BatchNorm2d)) == len(convs) - 1


@pytest.mark.parametrize("size", SIZES)
def test_discriminator_leaky_relu_02_no_norm_on_input_conv_no_sigmoid(size):
    d = DCGANDiscriminator(image_size=size, channels=3, features=8)
    layers = list(d.net)
    assert isinstance(layers[0], nn.Conv2d)
    assert isinstance(layers[1], nn.LeakyReLU)  # straight after the first conv: no norm
    relus = _of(d, nn.LeakyReLU)
    assert relus and all(r.negative_slope == pytest.approx(0.2) for r in relus)
    assert not _of(d, (nn.ReLU, nn.Sigmoid, nn.Tanh))
    _, n_up = stages_for(size)
    assert len(_of(d, nn.BatchNorm2d)) == n_up - 1  # every conv but the input and output ones
    assert isinstance(layers[-1], nn.Conv2d)  # logits, no sigmoid


@pytest.mark.parametrize("norm", ["layer", "none", "instance"])
def test_critic_norms_give_no_batchnorm(norm):
    d = DCGANDiscriminator(image_size=64, channels=3, features=8, norm=norm)
    assert not _of(d, nn.BatchNorm2d)


def test_norm_choice_places_the_right_layer_and_conv_bias():
    layer = DCGANDiscriminator(image_size=32, channels=3, features=8, norm="layer")
    groups = _of(layer, nn.GroupNorm)
    assert len(groups) == 2 and all(g.num_groups == 1 for g in groups)
    # a norm with a shift makes the preceding conv's bias redundant; without norm the bias stays
    assert all(c.bias is None for c in _of(layer, nn.Conv2d)[1:-1])
    plain = DCGANDiscriminator(image_size=32, channels=3, features=8, norm="none")
    assert not _of(plain, NORMS)
    assert all(c.bias is not None for c in _of(plain, nn.Conv2d))


def test_unknown_norm_raises():
    with pytest.raises(ValueError, match="Unknown norm 'spectral'"):
        DCGANDiscriminator(image_size=32, channels=3, features=8, norm="spectral")


# ---- N(0, 0.02) init ------------------------------------------------------------------
def test_weights_are_normal_0_002_and_batchnorm_near_identity():
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=100, image_size=64, channels=3, features=32)
    d = DCGANDiscriminator(image_size=64, channels=3, features=32)
    for net in (g, d):
        for conv in _of(net, (nn.Conv2d, nn.ConvTranspose2d)):
            w = conv.weight
            if w.numel() >= 10_000:  # big enough for tight statistics
                assert abs(w.std().item() - 0.02) < 0.001, conv
                assert abs(w.mean().item()) < 0.001, conv
            if conv.bias is not None:
                assert torch.count_nonzero(conv.bias) == 0
        bns = _of(net, nn.BatchNorm2d)
        assert bns
        weights = torch.cat([bn.weight.detach() for bn in bns])
        assert abs(weights.mean().item() - 1.0) < 0.005
        assert 0.01 < weights.std().item() < 0.03
        assert all(torch.count_nonzero(bn.bias) == 0 for bn in bns)


def test_init_is_applied_even_where_pytorch_default_is_far_from_002():
    # D's input conv has fan_in 3 * 16 = 48: PyTorch's default init gives std 1/sqrt(3 * 48) = 0.083
    torch.manual_seed(0)
    assert nn.Conv2d(3, 64, 4).weight.std().item() > 0.07
    first = DCGANDiscriminator(image_size=64, channels=3, features=64).net[0]
    assert abs(first.weight.std().item() - 0.02) < 0.002


# ---- built by name ---------------------------------------------------------------------
def test_build_dcgan_reads_channels_and_size_from_the_data_shape():
    from lit_gan.nets import build_discriminator, build_generator

    g = build_generator("dcgan", 12, (3, 32, 32), {"features": 8})
    d = build_discriminator("dcgan", (3, 32, 32), {"features": 8, "norm": "layer"})
    x = g(torch.randn(2, 12))
    assert x.shape == (2, 3, 32, 32)
    assert d(x).shape == (2,)


@pytest.mark.parametrize("shape", [(1, 28, 32), (784,), (28, 28), (1, 1, 28, 28)])
def test_build_dcgan_needs_square_images(shape):
    from lit_gan.nets import build_discriminator, build_generator

    with pytest.raises(ValueError, match=r"'dcgan' nets need square images \(C, H, H\).*" + re.escape(str(tuple(shape)))):
        build_generator("dcgan", 100, shape, {})
    with pytest.raises(ValueError, match="need square images"):
        build_discriminator("dcgan", shape, {})


def test_build_dcgan_bad_options_and_sizes():
    from lit_gan.nets import build_discriminator, build_generator

    with pytest.raises(ValueError, match=r"Bad generator_options \{'feature': 8\} for the 'dcgan' generator"):
        build_generator("dcgan", 100, (1, 28, 28), {"feature": 8})
    with pytest.raises(ValueError, match=r"Bad discriminator_options .*'dropout'.* for the 'dcgan' discriminator"):
        build_discriminator("dcgan", (1, 28, 28), {"dropout": 0.5})
    with pytest.raises(ValueError, match="Unknown norm 'weird'"):
        build_discriminator("dcgan", (1, 28, 28), {"norm": "weird"})
    with pytest.raises(ValueError, match="got 48"):
        build_generator("dcgan", 100, (3, 48, 48), {})
