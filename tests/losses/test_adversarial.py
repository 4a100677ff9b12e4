"""The original GAN objectives on logits: closed-form values, stability, the gradient claim."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lit_gan.losses import OBJECTIVES, get_objective
from lit_gan.losses.adversarial import (
    discriminator_loss,
    generator_loss_minimax,
    generator_loss_non_saturating,
)

REAL = np.array([2.0, -0.5, 0.0, 3.7, -4.2])
FAKE = np.array([-1.5, 0.3, 6.0, -7.0])  # a different batch size on purpose


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


# ---- closed-form values -------------------------------------------------------------------
def test_discriminator_loss_is_eq_1():
    s_r, s_f = _sigmoid(REAL), _sigmoid(FAKE)
    expected = -np.mean(np.log(s_r)) - np.mean(np.log(1.0 - s_f))
    got = discriminator_loss(_t(REAL), _t(FAKE)).item()
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("real_label", [0.9, 0.8, 0.5])
def test_label_smoothing_is_cross_entropy_to_the_soft_target(real_label):
    s_r, s_f = _sigmoid(REAL), _sigmoid(FAKE)
    a = real_label
    expected = -np.mean(a * np.log(s_r) + (1 - a) * np.log(1 - s_r)) - np.mean(np.log(1 - s_f))
    got = discriminator_loss(_t(REAL), _t(FAKE), real_label=a).item()
    assert got == pytest.approx(expected, rel=1e-12)
    # one-sided: it differs from the unsmoothed loss, but only through the real term
    unsmoothed = discriminator_loss(_t(REAL), _t(FAKE)).item()
    assert got != pytest.approx(unsmoothed, rel=1e-3)
    fake_only = discriminator_loss(_t(REAL), _t(FAKE + 1.0), real_label=a).item() - got
    fake_only_unsmoothed = discriminator_loss(_t(REAL), _t(FAKE + 1.0)).item() - unsmoothed
    assert fake_only == pytest.approx(fake_only_unsmoothed, rel=1e-12)


def test_generator_losses_closed_form():
    s_f = _sigmoid(FAKE)
    assert generator_loss_minimax(_t(FAKE)).item() == pytest.approx(np.mean(np.log(1 - s_f)), rel=1e-12)
    assert generator_loss_non_saturating(_t(FAKE)).item() == pytest.approx(-np.mean(np.log(s_f)), rel=1e-12)


def test_losses_at_d_equals_one_half():
    # D(x) = 1/2 everywhere (the optimum against p_g = p_data): D's loss is log 4 (sec. 4.1)
    zero = torch.zeros(8, dtype=torch.float64)
    assert discriminator_loss(zero, zero).item() == pytest.approx(math.log(4), rel=1e-12)
    assert generator_loss_minimax(zero).item() == pytest.approx(-math.log(2), rel=1e-12)
    assert generator_loss_non_saturating(zero).item() == pytest.approx(math.log(2), rel=1e-12)


def test_losses_are_scalars_and_keep_float32():
    r, f = torch.randn(4), torch.randn(4)
    for loss in (discriminator_loss(r, f), generator_loss_minimax(f), generator_loss_non_saturating(f)):
        assert loss.shape == () and loss.dtype == torch.float32


# ---- numerical stability ----------------------------------------------------------------------
def test_stable_at_extreme_logits():
    big, small = torch.tensor([100.0]), torch.tensor([-100.0])
    # D right with full confidence: loss -> 0; D wrong with full confidence: -> 100 per term
    assert discriminator_loss(big, small).item() == pytest.approx(0.0, abs=1e-30)
    assert discriminator_loss(small, big).item() == pytest.approx(200.0, rel=1e-6)
    # minimax: log(1 - D) -> log(1) = 0 when D rejects, -> -100 when D accepts
    assert generator_loss_minimax(small).item() == pytest.approx(0.0, abs=1e-30)
    assert generator_loss_minimax(big).item() == pytest.approx(-100.0, rel=1e-6)
    # non-saturating: -log D -> 100 when D rejects, -> 0 when D accepts
    assert generator_loss_non_saturating(small).item() == pytest.approx(100.0, rel=1e-6)
    assert generator_loss_non_saturating(big).item() == pytest.approx(0.0, abs=1e-30)
    assert discriminator_loss(big, small, real_label=0.9).item() == pytest.approx(0.1 * 100.0, rel=1e-5)


@pytest.mark.parametrize("value", [100.0, -100.0, 1e4, -1e4])
def test_finite_gradients_at_extreme_logits(value):
    for fn in (
        lambda l: discriminator_loss(l, l),
        lambda l: discriminator_loss(l, -l, real_label=0.9),
        generator_loss_minimax,
        generator_loss_non_saturating,
    ):
        logits = torch.full((3,), value, requires_grad=True)
        loss = fn(logits)
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
        assert grad.abs().max() <= 1.0 + 1e-6  # d/dl of softplus is a sigmoid: bounded by 1 / N per sample


def _grad(fn, logit: float) -> float:
    l = torch.tensor([logit], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(l), l)
    return g.item()


@pytest.mark.parametrize("l", [-20.0, -100.0])
def test_goodfellow_gradient_claim(l):
    # Sec. 3: when D confidently rejects fakes, log(1 - D(G(z))) saturates; -log D(G(z)) does not.
    minimax, non_sat = _grad(generator_loss_minimax, l), _grad(generator_loss_non_saturating, l)
    assert abs(minimax) < 1e-8  # d/dl log(1 - s(l)) = -s(l): -2e-9 at -20
    assert non_sat == pytest.approx(-1.0, abs=1e-8)  # d/dl -log s(l) = -(1 - s(l))
    # both push the logit up (negative gradient: minimising raises D(G(z)))
    assert minimax <= 0 and non_sat < 0


@pytest.mark.parametrize("logit", [-3.0, 0.0, 2.5])
def test_generator_gradients_closed_form(logit):
    s = 1.0 / (1.0 + math.exp(-logit))
    assert _grad(generator_loss_minimax, logit) == pytest.approx(-s, rel=1e-12)
    assert _grad(generator_loss_non_saturating, logit) == pytest.approx(-(1 - s), rel=1e-12)


def test_discriminator_gradients_closed_form():
    r = torch.tensor([0.7, -1.2], dtype=torch.float64, requires_grad=True)
    f = torch.tensor([1.5, -0.4, 0.1], dtype=torch.float64, requires_grad=True)
    g_r, g_f = torch.autograd.grad(discriminator_loss(r, f, real_label=0.9), (r, f))
    torch.testing.assert_close(g_r, (torch.sigmoid(r) - 0.9).detach() / 2)
    torch.testing.assert_close(g_f, torch.sigmoid(f).detach() / 3)


# ---- the registry and the argument checks --------------------------------------------------------
def test_get_objective_names():
    assert set(OBJECTIVES) == {"non_saturating", "minimax", "least_squares", "least_squares_sigmoid", "hinge",
                               "wasserstein"}
    ns, mm = get_objective("non_saturating"), get_objective("minimax")
    assert ns.generator is generator_loss_non_saturating and mm.generator is generator_loss_minimax
    assert ns.discriminator is discriminator_loss and mm.discriminator is discriminator_loss


@pytest.mark.parametrize("name", ["wgan", "NonSaturating", ""])
def test_unknown_objective_names_the_choices(name):
    choices = r"\['hinge', 'least_squares', 'least_squares_sigmoid', 'minimax', 'non_saturating', 'wasserstein'\]"
    with pytest.raises(ValueError, match=rf"Unknown loss '{name}'; choose one of {choices}"):
        get_objective(name)


@pytest.mark.parametrize("real_label", [0.0, -0.1, 1.1, 2.0])
def test_bad_real_label_raises(real_label):
    with pytest.raises(ValueError, match=r"real_label must be in \(0, 1\]"):
        discriminator_loss(torch.zeros(2), torch.zeros(2), real_label=real_label)
