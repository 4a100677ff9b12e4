"""Fully connected nets (Goodfellow et al. 2014's MNIST pair, toy nets) and the by-name builders."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.nets import DISCRIMINATORS, GENERATORS, build_discriminator, build_generator
from lit_gan.nets.layers import Maxout
from lit_gan.nets.mlp import MaxoutDiscriminator, MLPDiscriminator, MLPGenerator


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


# ---- generator --------------------------------------------------------------------------
def test_goodfellow_generator_widths_100_1200_1200_784():
    g = MLPGenerator(100, (1, 28, 28))
    widths = [(m.in_features, m.out_features) for m in _linears(g)]
    assert widths == [(100, 1200), (1200, 1200), (1200, 784)]
    acts = [type(m) for m in g.net if not isinstance(m, nn.Linear)]
    assert acts == [nn.ReLU, nn.ReLU, nn.Tanh]


def test_generator_shape_and_tanh_range():
    torch.manual_seed(0)
    g = MLPGenerator(10, (1, 6, 6), hidden=(16,))
    with torch.no_grad():
        g.net[-2].weight.mul_(100.0)  # saturate the tanh
    x = g(torch.randn(64, 10))
    assert x.shape == (64, 1, 6, 6)
    assert x.abs().max() <= 1.0
    assert x.min() < -0.99 and x.max() > 0.99


def test_linear_output_is_unbounded_for_2d_points():
    torch.manual_seed(0)
    g = MLPGenerator(4, (2,), hidden=(8, 8), activation="leaky_relu", output="linear")
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in g.modules())
    with torch.no_grad():
        g.net[-1].bias.fill_(5.0)
    x = g(torch.randn(3, 4))
    assert x.shape == (3, 2)
    assert x.abs().max() > 1.0


def test_generator_bad_options_raise():
    with pytest.raises(ValueError, match="Unknown output 'sigmoid'"):
        MLPGenerator(4, (2,), output="sigmoid")
    with pytest.raises(ValueError, match="Unknown activation 'elu'"):
        MLPGenerator(4, (2,), activation="elu")


# ---- discriminators -----------------------------------------------------------------------
def test_mlp_discriminator_one_logit_per_sample():
    d = MLPDiscriminator((1, 6, 6), hidden=(16, 8), dropout=0.3)
    widths = [(m.in_features, m.out_features) for m in _linears(d)]
    assert widths == [(36, 16), (16, 8), (8, 1)]
    assert sum(isinstance(m, nn.Dropout) for m in d.modules()) == 2
    assert d(torch.randn(5, 1, 6, 6)).shape == (5,)
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())


def test_mlp_discriminator_without_dropout_has_none():
    d = MLPDiscriminator((2,), hidden=(8,))
    assert not any(isinstance(m, nn.Dropout) for m in d.modules())


def test_maxout_discriminator_paper_defaults():
    d = MaxoutDiscriminator((1, 28, 28))
    maxouts = [m for m in d.modules() if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.out_features, m.pieces) for m in maxouts] == [(784, 240, 5), (240, 240, 5)]
    assert maxouts[0].linear.out_features == 1200  # 240 units x 5 pieces
    drops = [m.p for m in d.modules() if isinstance(m, nn.Dropout)]
    assert drops == pytest.approx([0.2, 0.5, 0.5])  # include-probabilities 0.8 (input), 0.5 (hidden)
    out = d.net[-1]
    assert isinstance(out, nn.Linear) and (out.in_features, out.out_features) == (240, 1)


def test_maxout_discriminator_matches_a_manual_computation():
    torch.manual_seed(0)
    units, pieces = 4, 3
    d = MaxoutDiscriminator((1, 3, 3), units=units, pieces=pieces).eval()  # eval: dropout off
    x = torch.randn(6, 1, 3, 3, dtype=torch.float64)
    m1, m2, out = [m for m in d.net if isinstance(m, (Maxout, nn.Linear))]

    def maxout(h, layer):
        w, b = layer.linear.weight.detach().double(), layer.linear.bias.detach().double()
        pre = h @ w.T + b  # (N, units * pieces); unit j owns columns j*pieces .. j*pieces+pieces-1
        return torch.stack([pre[:, j * pieces:(j + 1) * pieces].max(1).values for j in range(units)], 1)

    h = maxout(x.flatten(1), m1)
    h = maxout(h, m2)
    expected = (h @ out.weight.detach().double().T + out.bias.detach().double()).squeeze(1)
    got = d(x.float()).double()
    assert got.shape == (6,)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_maxout_discriminator_dropout_active_only_in_train_mode():
    torch.manual_seed(0)
    d = MaxoutDiscriminator((1, 4, 4), units=8, pieces=2)
    x = torch.randn(16, 1, 4, 4)
    d.eval()
    torch.testing.assert_close(d(x), d(x))
    d.train()
    assert not torch.equal(d(x), d(x))


# ---- PacGAN / VEEGAN 2-D nets (Lin et al. 2018 code) and backward compatibility ------------
def test_pacgan_generator_linear_no_bias_batchnorm_relu_four_times():
    torch.manual_seed(0)
    g = MLPGenerator(2, (2,), hidden=(400,) * 4, output="linear", batch_norm=True)
    assert [type(m) for m in g.net] == [nn.Linear, nn.BatchNorm1d, nn.ReLU] * 4 + [nn.Linear]
    linears = _linears(g)
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 400)] + [(400, 400)] * 3 + [(400, 2)]
    assert [m.bias is None for m in linears] == [True] * 4 + [False]  # only the output layer has a bias
    assert g(torch.randn(100, 2)).shape == (100, 2)
    # training mode: each BatchNorm normalises its batch (mean 0, var 1 per unit before ReLU)
    pre = g.net[:2](torch.randn(100, 2))
    torch.testing.assert_close(pre.mean(0), torch.zeros(400), atol=1e-5, rtol=0)


def test_pacgan_maxout_discriminator_three_layers():
    d = MaxoutDiscriminator((2,), units=200, pieces=5, input_dropout=0.0, dropout=0.0, layers=3)
    maxouts = [m for m in d.modules() if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.out_features, m.pieces) for m in maxouts] == [(2, 200, 5)] + [(200, 200, 5)] * 2
    out = d.net[-1]  # the last module stays the logit layer (minibatch discrimination replaces it)
    assert isinstance(out, nn.Linear) and (out.in_features, out.out_features) == (200, 1)
    assert d(torch.randn(7, 2)).shape == (7,)
    assert [m.p for m in d.modules() if isinstance(m, nn.Dropout)] == [0.0] * 4
    one = MaxoutDiscriminator((2,), units=4, pieces=2, layers=1)
    assert sum(isinstance(m, Maxout) for m in one.modules()) == 1


# state_dict keys and module layouts of the default nets, written down from the code before
# batch_norm / layers / init existed: checkpoints saved then must still load
OLD_GENERATOR_KEYS = ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias"]
OLD_MAXOUT_KEYS = ["net.2.linear.weight", "net.2.linear.bias", "net.4.linear.weight", "net.4.linear.bias",
                   "net.6.weight", "net.6.bias"]


def test_default_nets_keep_their_old_layout_and_keys():
    g = MLPGenerator(2, (2,), hidden=(8, 8), output="linear")
    assert list(g.state_dict()) == OLD_GENERATOR_KEYS
    assert [type(m) for m in g.net] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert list(MLPGenerator(100, (1, 28, 28)).state_dict()) == OLD_GENERATOR_KEYS
    d = MaxoutDiscriminator((2,), units=4, pieces=2)
    assert list(d.state_dict()) == OLD_MAXOUT_KEYS
    assert [type(m) for m in d.net] == [nn.Flatten, nn.Dropout, Maxout, nn.Dropout, Maxout, nn.Dropout, nn.Linear]
    # and an old state_dict loads strictly into the new default nets
    g.load_state_dict({k: torch.zeros_like(v) for k, v in g.state_dict().items()}, strict=True)


def test_normal_init_is_n_0_002_with_zero_biases():
    torch.manual_seed(0)
    g = MLPGenerator(2, (2,), hidden=(400, 400), output="linear", batch_norm=True, init="normal_0.02")
    d = MaxoutDiscriminator((2,), units=200, pieces=5, layers=3, init="normal_0.02")
    for net in (g, d):
        for m in _linears(net):
            if m.in_features * m.out_features >= 10_000:  # enough weights for a tight estimate
                assert m.weight.std().item() == pytest.approx(0.02, rel=0.05)
                assert m.weight.mean().abs().item() < 0.002
            if m.bias is not None:
                assert torch.equal(m.bias, torch.zeros_like(m.bias))
    bns = [m for m in g.modules() if isinstance(m, nn.BatchNorm1d)]
    assert bns and all(torch.equal(b.weight, torch.ones(400)) and torch.equal(b.bias, torch.zeros(400)) for b in bns)
    # the default keeps PyTorch's init: Linear(2, 400) draws U(-1/sqrt 2, 1/sqrt 2), std ~0.41
    assert MLPGenerator(2, (2,), hidden=(400,), output="linear").net[0].weight.std().item() > 0.2


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MLPGenerator(2, (2,), init="xavier"), "Unknown init 'xavier'"),
        (lambda: MaxoutDiscriminator((2,), init="normal"), "Unknown init 'normal'"),
        (lambda: MaxoutDiscriminator((2,), layers=0), "layers >= 1"),
    ],
)
def test_bad_pacgan_options_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_builders_pass_the_pacgan_options():
    g = build_generator("mlp", 2, (2,), {"hidden": [400] * 4, "output": "linear", "batch_norm": True,
                                         "init": "normal_0.02"})
    d = build_discriminator("maxout", (2,), {"units": 200, "pieces": 5, "layers": 3, "init": "normal_0.02"})
    assert sum(isinstance(m, nn.BatchNorm1d) for m in g.modules()) == 4
    assert sum(isinstance(m, Maxout) for m in d.modules()) == 3


# ---- builders -------------------------------------------------------------------------------
def test_builders_by_name():
    assert tuple(GENERATORS) == ("mlp", "dcgan") and tuple(DISCRIMINATORS) == ("mlp", "maxout", "dcgan")
    assert isinstance(build_generator("mlp", 5, (2,), {"hidden": (4,), "output": "linear"}), MLPGenerator)
    assert isinstance(build_discriminator("mlp", (2,), {"hidden": (4,)}), MLPDiscriminator)
    assert isinstance(build_discriminator("maxout", (1, 4, 4), {"units": 4, "pieces": 2}), MaxoutDiscriminator)
    g = build_generator("mlp", 5, (3, 4, 4), {"hidden": [8]})
    assert g(torch.randn(2, 5)).shape == (2, 3, 4, 4)


def test_unknown_arch_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown generator 'resnet'; choose one of mlp, dcgan$"):
        build_generator("resnet", 100, (1, 28, 28), {})
    with pytest.raises(ValueError, match=r"Unknown discriminator 'patchgan'; choose one of mlp, maxout, dcgan$"):
        build_discriminator("patchgan", (1, 28, 28), {})


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_generator("mlp", 5, (2,), {"widths": (4,)}),
        lambda: build_discriminator("mlp", (2,), {"hiden": (4,)}),
        lambda: build_discriminator("maxout", (1, 4, 4), {"num_units": 4}),
    ],
)
def test_unknown_options_raise_a_value_error_naming_the_net(build):
    with pytest.raises(ValueError, match=r"Bad (generator|discriminator)_options .* for the '(mlp|maxout)'"):
        build()
