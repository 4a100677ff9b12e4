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


# ---- builders -------------------------------------------------------------------------------
def test_builders_by_name():
    assert GENERATORS == ("mlp", "dcgan") and DISCRIMINATORS == ("mlp", "maxout", "dcgan")
    assert isinstance(build_generator("mlp", 5, (2,), {"hidden": (4,), "output": "linear"}), MLPGenerator)
    assert isinstance(build_discriminator("mlp", (2,), {"hidden": (4,)}), MLPDiscriminator)
    assert isinstance(build_discriminator("maxout", (1, 4, 4), {"units": 4, "pieces": 2}), MaxoutDiscriminator)
    g = build_generator("mlp", 5, (3, 4, 4), {"hidden": [8]})
    assert g(torch.randn(2, 5)).shape == (2, 3, 4, 4)


def test_unknown_arch_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown generator 'resnet'.*'mlp', 'dcgan'"):
        build_generator("resnet", 100, (1, 28, 28), {})
    with pytest.raises(ValueError, match=r"Unknown discriminator 'patchgan'.*'mlp', 'maxout', 'dcgan'"):
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
