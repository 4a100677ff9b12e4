"""Wasserstein objectives and weight clipping (Arjovsky et al. 2017, Alg. 1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lit_gan.losses.wasserstein import clip_weights_, critic_loss, generator_loss, wasserstein_estimate

REAL = np.array([2.0, -0.5, 0.0, 3.7, -4.2])
FAKE = np.array([-1.5, 0.3, 6.0, -7.0])


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def test_critic_loss_is_minus_the_estimate():
    expected = np.mean(FAKE) - np.mean(REAL)  # -0.55 - 0.2 = -0.75
    assert expected == pytest.approx(-0.75, rel=1e-12)
    assert critic_loss(_t(REAL), _t(FAKE)).item() == pytest.approx(expected, rel=1e-12)
    assert wasserstein_estimate(_t(REAL), _t(FAKE)).item() == pytest.approx(-expected, rel=1e-12)
    assert generator_loss(_t(FAKE)).item() == pytest.approx(-np.mean(FAKE), rel=1e-12)


def test_estimate_of_a_shift_with_the_optimal_critic():
    # P_r = delta_0 shifted by t vs P_g = delta_0: W = |t|, attained by the 1-Lipschitz f(x) = sign(t) x
    t = 3.0
    real, fake = torch.full((7,), t), torch.zeros(5)
    assert wasserstein_estimate(real, fake).item() == pytest.approx(t)
    assert critic_loss(real, fake).item() == pytest.approx(-t)


def test_gradients_are_constant():
    r = torch.tensor([0.7, -1.2], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([1e4, -0.4, -1e4], dtype=torch.float64, requires_grad=True)
    g_r, g_f = torch.autograd.grad(critic_loss(r, f), (r, f))
    torch.testing.assert_close(g_r, torch.full((2,), -0.5, dtype=torch.float64))  # critic raises D(x)
    torch.testing.assert_close(g_f, torch.full((3,), 1 / 3, dtype=torch.float64))  # and lowers D(G(z))
    (g_g,) = torch.autograd.grad(generator_loss(f), f)
    torch.testing.assert_close(g_g, torch.full((3,), -1 / 3, dtype=torch.float64))  # G raises D(G(z))


@pytest.mark.parametrize("real_label", [0.9, 0.5])
def test_label_smoothing_is_refused(real_label):
    with pytest.raises(ValueError, match="no targets.*label_smoothing: 0"):
        critic_loss(torch.zeros(2), torch.zeros(2), real_label=real_label)


def test_clip_weights_clamps_every_parameter_in_place():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p))
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    ids = [id(p) for p in net.parameters()]
    clip_weights_(net, 0.01)
    assert [id(p) for p in net.parameters()] == ids  # same tensors: optimizers keep their state
    for name, p in net.named_parameters():
        assert p.abs().max() <= 0.01, name
        torch.testing.assert_close(p.detach(), before[name].clamp(-0.01, 0.01))
    assert any((p.abs() == 0.01).any() for p in net.parameters())  # clipped, not rescaled
    assert net[1].running_var.eq(1).all()  # buffers are not parameters: left alone


def test_clip_weights_refuses_nonpositive_c():
    with pytest.raises(ValueError, match="clip_value must be positive"):
        clip_weights_(nn.Linear(2, 1), 0.0)
