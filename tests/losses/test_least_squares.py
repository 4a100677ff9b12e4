"""LSGAN (Mao et al. 2017, 0-1-1 coding): closed-form values and gradients, smoothing as target b."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_gan.losses.least_squares import (
    discriminator_loss,
    discriminator_loss_sigmoid,
    generator_loss,
    generator_loss_sigmoid,
)

REAL = np.array([2.0, -0.5, 0.0, 3.7, -4.2])
FAKE = np.array([-1.5, 0.3, 6.0, -7.0])  # a different batch size on purpose


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def test_discriminator_loss_is_eq_2_with_a0_b1():
    expected = 0.5 * np.mean((REAL - 1.0) ** 2) + 0.5 * np.mean(FAKE**2)
    assert discriminator_loss(_t(REAL), _t(FAKE)).item() == pytest.approx(expected, rel=1e-12)


def test_generator_loss_is_eq_2_with_c1():
    assert generator_loss(_t(FAKE)).item() == pytest.approx(0.5 * np.mean((FAKE - 1.0) ** 2), rel=1e-12)


def test_optimum_values():
    # D perfect (1 on real, 0 on fake): D's loss 0, G's loss 1/2; G fooling D completely: G's loss 0
    ones, zeros = torch.ones(4, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    assert discriminator_loss(ones, zeros).item() == 0.0
    assert generator_loss(zeros).item() == pytest.approx(0.5, rel=1e-12)
    assert generator_loss(ones).item() == 0.0
    # Mao et al. 2017, sec. 3.2.1: against p_g = p_data the optimal D is b p_d / (p_d + p_g) = 1/2,
    # where D's loss is 1/2 (1/2 - 1)^2 + 1/2 (1/2)^2 = 1/4
    half = torch.full((5,), 0.5, dtype=torch.float64)
    assert discriminator_loss(half, half).item() == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize("b", [0.9, 0.7])
def test_label_smoothing_is_the_real_target_b(b):
    expected = 0.5 * np.mean((REAL - b) ** 2) + 0.5 * np.mean(FAKE**2)
    assert discriminator_loss(_t(REAL), _t(FAKE), real_label=b).item() == pytest.approx(expected, rel=1e-12)
    # one-sided: the smoothed loss is minimised at D(x) = b, not 1
    at_b = discriminator_loss(torch.full((3,), b), torch.zeros(3), real_label=b)
    assert at_b.item() == 0.0 and discriminator_loss(torch.ones(3), torch.zeros(3), real_label=b).item() > 0


@pytest.mark.parametrize("real_label", [0.0, -0.1, 1.1])
def test_bad_real_label_raises(real_label):
    with pytest.raises(ValueError, match=r"real_label must be in \(0, 1\]"):
        discriminator_loss(torch.zeros(2), torch.zeros(2), real_label=real_label)


def test_gradients_closed_form():
    r = torch.tensor([0.7, -1.2], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([1.5, -0.4, 0.1], dtype=torch.float64, requires_grad=True)
    g_r, g_f = torch.autograd.grad(discriminator_loss(r, f, real_label=0.9), (r, f))
    torch.testing.assert_close(g_r, (r - 0.9).detach() / 2)  # d/dr 1/2 mean (r - b)^2 = (r - b) / N
    torch.testing.assert_close(g_f, f.detach() / 3)
    (g_g,) = torch.autograd.grad(generator_loss(f), f)
    torch.testing.assert_close(g_g, (f - 1.0).detach() / 3)


@pytest.mark.parametrize("out", [-100.0, -1e4])
def test_generator_gradient_does_not_vanish_for_rejected_fakes(out):
    # sec. 3.1: fakes far on the "fake" side still get a gradient proportional to the distance
    f = torch.tensor([out], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(generator_loss(f), f)
    assert g.item() == pytest.approx(out - 1.0, rel=1e-12) and g.item() < 0  # pushes D(G(z)) up


def test_scalar_float32():
    r, f = torch.randn(4), torch.randn(4)
    for loss in (discriminator_loss(r, f), generator_loss(f)):
        assert loss.shape == () and loss.dtype == torch.float32


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_sigmoid_variant_squares_the_probability_as_compare_gan():
    # compare_gan's LSGAN: 0.5 (E[(s(x) - 1)^2] + E[s(G(z))^2]) and 0.5 E[(s(G(z)) - 1)^2], s = sigmoid
    expected_d = 0.5 * np.mean((_sigmoid(REAL) - 1.0) ** 2) + 0.5 * np.mean(_sigmoid(FAKE) ** 2)
    expected_g = 0.5 * np.mean((_sigmoid(FAKE) - 1.0) ** 2)
    assert discriminator_loss_sigmoid(_t(REAL), _t(FAKE)).item() == pytest.approx(expected_d, rel=1e-12)
    assert generator_loss_sigmoid(_t(FAKE)).item() == pytest.approx(expected_g, rel=1e-12)
    # unlike the raw-score loss, it is bounded and flat where the sigmoid saturates
    far = _t([-40.0]).requires_grad_()
    (grad,) = torch.autograd.grad(generator_loss_sigmoid(far), far)
    assert generator_loss_sigmoid(far).item() == pytest.approx(0.5) and abs(grad.item()) < 1e-15
