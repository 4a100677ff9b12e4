"""Hinge loss (Lim et al. 2017; Miyato et al. 2018): closed-form values, margins, no label smoothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_gan.losses.hinge import discriminator_loss, generator_loss

REAL = np.array([2.0, -0.5, 0.0, 3.7, -4.2, 1.0])
FAKE = np.array([-1.5, 0.3, 6.0, -7.0])


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def test_discriminator_loss_closed_form():
    expected = np.mean(np.maximum(0.0, 1.0 - REAL)) + np.mean(np.maximum(0.0, 1.0 + FAKE))
    # by hand: real terms 0, 1.5, 1, 0, 5.2, 0 -> 7.7 / 6; fake terms 0, 1.3, 7, 0 -> 8.3 / 4
    assert expected == pytest.approx(7.7 / 6 + 8.3 / 4, rel=1e-12)
    assert discriminator_loss(_t(REAL), _t(FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_generator_loss_is_minus_mean_score():
    assert generator_loss(_t(FAKE)).item() == pytest.approx(-np.mean(FAKE), rel=1e-12)


def test_zero_loss_outside_the_margin():
    assert discriminator_loss(torch.tensor([1.0, 3.0]), torch.tensor([-1.0, -5.0])).item() == 0.0
    assert discriminator_loss(torch.zeros(3), torch.zeros(3)).item() == 2.0  # D undecided: 1 + 1


def test_discriminator_gradient_only_inside_the_margin():
    r = torch.tensor([2.0, 0.5], dtype=torch.float64, requires_grad=True)  # first one beyond the margin
    f = torch.tensor([-3.0, -0.5, 0.2], dtype=torch.float64, requires_grad=True)
    g_r, g_f = torch.autograd.grad(discriminator_loss(r, f), (r, f))
    torch.testing.assert_close(g_r, torch.tensor([0.0, -0.5], dtype=torch.float64))  # -1/N inside, 0 outside
    torch.testing.assert_close(g_f, torch.tensor([0.0, 1 / 3, 1 / 3], dtype=torch.float64))


@pytest.mark.parametrize("out", [-100.0, 0.0, 1e4])
def test_generator_gradient_is_constant_and_never_saturates(out):
    f = torch.full((4,), out, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(generator_loss(f), f)
    torch.testing.assert_close(g, torch.full((4,), -0.25, dtype=torch.float64))  # pushes D(G(z)) up


@pytest.mark.parametrize("real_label", [0.9, 0.5])
def test_label_smoothing_is_refused(real_label):
    with pytest.raises(ValueError, match="hinge loss has margins, not targets.*label_smoothing: 0"):
        discriminator_loss(torch.zeros(2), torch.zeros(2), real_label=real_label)
