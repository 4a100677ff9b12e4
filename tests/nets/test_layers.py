"""Shared layers: the norm factory, N(0, 0.02) init, the maxout unit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.nets.layers import Maxout, init_normal_, norm_2d


# ---- norm factory ---------------------------------------------------------------------
def test_norm_names_give_the_documented_layers():
    batch = norm_2d("batch", 6)
    assert isinstance(batch, nn.BatchNorm2d) and batch.num_features == 6
    layer = norm_2d("layer", 6)
    assert isinstance(layer, nn.GroupNorm) and layer.num_groups == 1 and layer.num_channels == 6
    inst = norm_2d("instance", 6)
    assert isinstance(inst, nn.InstanceNorm2d) and not inst.affine and not inst.track_running_stats
    assert isinstance(norm_2d("none", 6), nn.Identity)


def test_layer_norm_is_per_sample_over_chw():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 5, 5) * 7 + 2
    y = norm_2d("layer", 4)(x)
    flat = y.flatten(1)
    torch.testing.assert_close(flat.mean(1), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.var(1, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    # independent of the other samples in the batch
    torch.testing.assert_close(norm_2d("layer", 4)(x[:1]), y[:1])


def test_instance_norm_is_per_sample_per_channel():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 6) * 5 - 1
    y = norm_2d("instance", 3)(x)
    torch.testing.assert_close(y.mean((2, 3)), torch.zeros(2, 3), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["group", "Batch", "", "spectral"])
def test_unknown_norm_names_the_choices(name):
    with pytest.raises(ValueError, match=r"Unknown norm .*batch, layer, instance or none"):
        norm_2d(name, 4)


# ---- init ------------------------------------------------------------------------------
def test_init_normal_sets_weights_biases_and_norm_scales():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(64, 128, 3), nn.BatchNorm2d(512), nn.ConvTranspose2d(128, 64, 3),
        nn.Linear(200, 300), nn.GroupNorm(1, 512), nn.InstanceNorm2d(8),
    )
    init_normal_(net)
    for m in (net[0], net[2], net[3]):
        assert abs(m.weight.std().item() - 0.02) < 0.001
        assert abs(m.weight.mean().item()) < 0.001
        assert torch.count_nonzero(m.bias) == 0
    for m in (net[1], net[4]):
        assert abs(m.weight.mean().item() - 1.0) < 0.005
        assert abs(m.weight.std().item() - 0.02) < 0.004
        assert torch.count_nonzero(m.bias) == 0


def test_init_normal_takes_a_std():
    torch.manual_seed(0)
    lin = nn.Linear(500, 400)
    init_normal_(lin, std=0.1)
    assert abs(lin.weight.std().item() - 0.1) < 0.002


# ---- maxout ----------------------------------------------------------------------------
def test_maxout_shape():
    assert Maxout(10, 7, 3)(torch.randn(4, 10)).shape == (4, 7)


def test_maxout_is_the_max_over_each_units_pieces():
    torch.manual_seed(0)
    layer = Maxout(6, 4, 3)
    x = torch.randn(5, 6, dtype=torch.float64)
    w = layer.linear.weight.detach().double()  # (out * pieces, in)
    b = layer.linear.bias.detach().double()
    expected = torch.empty(5, 4, dtype=torch.float64)
    for n in range(5):
        for unit in range(4):
            pieces = [x[n] @ w[unit * 3 + k] + b[unit * 3 + k] for k in range(3)]
            expected[n, unit] = max(pieces)
    torch.testing.assert_close(layer(x.float()).double(), expected, atol=1e-5, rtol=1e-5)


def test_maxout_with_one_piece_is_linear():
    torch.manual_seed(0)
    layer = Maxout(5, 3, 1)
    x = torch.randn(4, 5)
    torch.testing.assert_close(layer(x), layer.linear(x))


def test_maxout_gradient_flows_only_through_the_winning_piece():
    torch.manual_seed(0)
    layer = Maxout(3, 1, 2)
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]))
        layer.linear.bias.zero_()
    x = torch.tensor([[2.0, 1.0, 1.0]])  # piece 0 gives 2, piece 1 gives -2
    y = layer(x)
    assert y.item() == 2.0
    y.sum().backward()
    torch.testing.assert_close(layer.linear.weight.grad, torch.tensor([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
