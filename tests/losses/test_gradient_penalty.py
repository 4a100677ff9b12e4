"""WGAN-GP gradient penalty (Gulrajani et al. 2017, eq. 3) and R1 (Mescheder et al. 2018, eq. 9):
exact values on linear critics, the gradient reaching the critic's parameters, interpolates,
precision, the lazy R1's scaling and the refusals."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.errors import SettingError
from lit_gan.losses.gradient_penalty import (
    check_r1_settings,
    gradient_norms,
    gradient_penalty,
    interpolate,
    r1_penalty,
    refuse_float16,
    refuse_r1_with_clipping,
)


def _linear_critic(w: torch.Tensor) -> nn.Module:
    critic = nn.Linear(w.numel(), 1).double()
    with torch.no_grad():
        critic.weight.copy_(w.view(1, -1))
        critic.bias.fill_(0.3)
    return nn.Sequential(nn.Flatten(), critic)


@pytest.mark.parametrize("w", [[3.0, 4.0], [0.6, 0.8], [0.1, -0.2], [0.0, 0.0]])
@pytest.mark.parametrize("weight", [10.0, 0.1])
def test_linear_critic_penalty_is_lambda_times_norm_minus_one_squared(w, weight):
    # f(x) = w.x + b has gradient w everywhere: the penalty is lambda (|w| - 1)^2 exactly
    w = torch.tensor(w, dtype=torch.float64)
    torch.manual_seed(0)
    real, fake = torch.randn(16, 2, dtype=torch.float64), torch.randn(16, 2, dtype=torch.float64) + 5
    got = gradient_penalty(_linear_critic(w), real, fake, weight=weight)
    expected = weight * (torch.linalg.vector_norm(w).item() - 1.0) ** 2
    assert got.item() == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert got.shape == ()


def test_linear_critic_on_images_flattens_each_sample():
    torch.manual_seed(0)
    w = torch.randn(1 * 4 * 4, dtype=torch.float64)
    real, fake = torch.randn(5, 1, 4, 4, dtype=torch.float64), torch.randn(5, 1, 4, 4, dtype=torch.float64)
    got = gradient_penalty(_linear_critic(w), real, fake, weight=10.0)
    assert got.item() == pytest.approx(10.0 * (w.norm().item() - 1.0) ** 2, rel=1e-6)


def test_gradient_norms_per_sample_for_a_quadratic_critic():
    # f(x) = 1/2 |x|^2 has gradient x: the norm is |x| for each sample separately
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    norms = gradient_norms(lambda p: 0.5 * (p**2).sum(dim=1), x)
    torch.testing.assert_close(norms, torch.tensor([5.0, 1.0, 2**0.5], dtype=torch.float32))


def test_penalty_gradient_reaches_the_critics_parameters():
    # for f(x) = w.x, d/dw lambda (|w| - 1)^2 = 2 lambda (|w| - 1) w / |w|
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    critic = _linear_critic(w)
    real, fake = torch.randn(8, 2, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)
    gradient_penalty(critic, real, fake, weight=10.0).backward()
    linear = critic[1]
    torch.testing.assert_close(linear.weight.grad.view(-1), 2 * 10.0 * (5.0 - 1.0) * w / 5.0)
    assert linear.bias.grad is None  # the bias does not enter the gradient w.r.t. x: no path to it


def test_penalty_trains_a_nonlinear_critic_and_not_the_generator():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    generator = nn.Linear(3, 2)
    real, fake = torch.randn(6, 2), generator(torch.randn(6, 3))
    gradient_penalty(critic, real, fake).backward()
    grads = {n: p.grad for n, p in critic.named_parameters()}
    assert grads.pop("2.bias") is None  # the output bias never changes grad_x D
    assert all(g is not None and g.abs().sum() > 0 for g in grads.values())
    assert all(p.grad is None for p in generator.parameters())  # fakes are detached
    assert real.grad is None


def test_penalty_does_not_write_grads_before_backward():
    # autograd.grad, not backward(create_graph=True): computing the penalty leaves .grad alone (DDP-safe)
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    gradient_penalty(critic, torch.randn(4, 2), torch.randn(4, 2))
    assert all(p.grad is None for p in critic.parameters())


def test_interpolate_uses_one_eps_per_sample():
    real, fake = torch.ones(3, 1, 2, 2), torch.zeros(3, 1, 2, 2)
    x_hat = interpolate(real, fake, eps=torch.tensor([0.0, 0.25, 1.0]))
    torch.testing.assert_close(x_hat, torch.tensor([0.0, 0.25, 1.0]).view(3, 1, 1, 1).expand(3, 1, 2, 2))
    # drawn eps: each sample lies on its own segment, with the same eps for all its coordinates
    real, fake = torch.randn(1000, 2), torch.randn(1000, 2)
    x_hat = interpolate(real, fake, generator=torch.Generator().manual_seed(0))
    eps = (x_hat - fake) / (real - fake)
    torch.testing.assert_close(eps[:, 0], eps[:, 1], rtol=1e-3, atol=1e-3)
    assert 0.0 <= eps.min() and eps.max() <= 1.0 and abs(eps[:, 0].mean().item() - 0.5) < 0.05


def test_interpolate_checks_shapes():
    with pytest.raises(ValueError, match="same shape"):
        interpolate(torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"eps must have shape \(3,\)"):
        interpolate(torch.zeros(3, 2), torch.zeros(3, 2), eps=torch.zeros(3, 2))


def test_negative_weight_raises():
    with pytest.raises(ValueError, match="gradient penalty weight must be >= 0"):
        gradient_penalty(nn.Linear(2, 1), torch.zeros(2, 2), torch.zeros(2, 2), weight=-1.0)


def test_bf16_autocast_gives_a_float32_penalty_close_to_fp32():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    real, fake, eps = torch.randn(32, 2), torch.randn(32, 2), torch.rand(32)
    exact = gradient_penalty(critic, real, fake, eps=eps)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = gradient_penalty(critic, real, fake, eps=eps)
    assert low.dtype == torch.float32 and torch.isfinite(low)
    assert low.item() == pytest.approx(exact.item(), rel=0.05)
    low.backward()
    assert all(torch.isfinite(p.grad).all() for n, p in critic.named_parameters() if n != "2.bias")


# ---- R1 (Mescheder et al. 2018, eq. 9) ----

@pytest.mark.parametrize("w", [[3.0, 4.0], [0.6, 0.8], [0.0, 0.0]])
@pytest.mark.parametrize("gamma", [10.0, 0.5])
def test_r1_on_a_linear_critic_is_half_gamma_times_the_squared_weight_norm(w, gamma):
    # D(x) = w.x + b: grad_x D = w at every real point, so R1 = gamma / 2 |w|^2
    w = torch.tensor(w, dtype=torch.float64)
    real = torch.randn(16, 2, dtype=torch.float64)
    got = r1_penalty(_linear_critic(w), real, gamma=gamma)
    assert got.item() == pytest.approx(gamma / 2 * (w.norm().item() ** 2), rel=1e-6, abs=1e-12)
    assert got.shape == () and got.dtype == torch.float32


def test_r1_averages_the_squared_norms_of_each_real_sample():
    # D(x) = 1/2 |x|^2 has gradient x: R1 = gamma / 2 * mean(|x_i|^2)
    real = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    got = r1_penalty(lambda p: 0.5 * (p**2).sum(dim=1), real, gamma=2.0)
    assert got.item() == pytest.approx((25.0 + 1.0) / 2)


def test_lazy_r1_is_multiplied_by_its_interval():
    w = torch.tensor([0.3, -1.2], dtype=torch.float64)
    real = torch.randn(8, 2, dtype=torch.float64)
    every_step = r1_penalty(_linear_critic(w), real, gamma=10.0)
    lazy = r1_penalty(_linear_critic(w), real, gamma=10.0, interval=16)  # StyleGAN2's D_reg_interval
    assert lazy.item() == pytest.approx(16 * every_step.item(), rel=1e-6)


def test_r1_gradient_reaches_the_critics_weights_and_leaves_grads_alone_until_backward():
    # d/dw gamma / 2 |w|^2 = gamma w
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    critic = _linear_critic(w)
    real = torch.randn(8, 2, dtype=torch.float64, requires_grad=True)
    penalty = r1_penalty(critic, real, gamma=10.0)
    assert all(p.grad is None for p in critic.parameters())  # autograd.grad, not backward (DDP-safe)
    penalty.backward()
    torch.testing.assert_close(critic[1].weight.grad.view(-1), 10.0 * w)
    assert real.grad is None  # the real batch is detached


def test_r1_is_finite_where_the_gradient_is_zero():
    # a squared norm summed from the gradient: no sqrt, so no 0/0 in the backward at grad = 0
    critic = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        critic[0].bias.fill_(-100.0)  # every ReLU off: grad_x D = 0
    penalty = r1_penalty(critic, torch.randn(4, 2))
    penalty.backward()
    assert penalty.item() == 0.0
    assert all(torch.isfinite(p.grad).all() for p in critic.parameters() if p.grad is not None)


def test_r1_packs_consecutive_samples():
    # a packed critic of m = 2 samples, D = w.[x1, x2]: one squared norm |w|^2 per pack
    w = torch.tensor([1.0, 2.0, 3.0, 4.0])
    real = torch.randn(6, 2)
    critic = lambda p: p.reshape(-1, 4) @ w  # noqa: E731
    assert r1_penalty(critic, real, gamma=2.0, group=2).item() == pytest.approx(30.0)
    with pytest.raises(ValueError, match="packs of 4"):
        r1_penalty(critic, real, gamma=2.0, group=4)


def test_r1_under_bf16_autocast_is_float32_and_close_to_fp32():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    real = torch.randn(32, 2)
    exact = r1_penalty(critic, real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = r1_penalty(critic, real)
    assert low.dtype == torch.float32 and low.item() == pytest.approx(exact.item(), rel=0.05)


@pytest.mark.parametrize("precision", ["16-mixed", "16-true", "16"])
def test_float16_is_refused_for_r1_as_for_the_gp(precision):
    with pytest.raises(SettingError, match="not supported with a gradient penalty"):
        refuse_float16(precision)
    refuse_float16("bf16-mixed")  # accepted


@pytest.mark.parametrize("gamma, interval, match", [
    (-1.0, 1, "R1 gamma must be >= 0"),
    (float("nan"), 1, "R1 gamma must be >= 0"),
    (10.0, 0, "R1 interval must be a whole number"),
    (10.0, 2.5, "R1 interval must be a whole number"),
    (10.0, True, "R1 interval must be a whole number"),
])
def test_bad_r1_settings_are_one_line_setting_errors(gamma, interval, match):
    with pytest.raises(SettingError, match=match) as err:
        check_r1_settings(gamma, interval)
    assert "\n" not in str(err.value)


def test_r1_with_wgan_weight_clipping_is_refused():
    with pytest.raises(SettingError, match="clip_value to null"):
        refuse_r1_with_clipping(10.0, 0.01)
    refuse_r1_with_clipping(10.0, None)  # R1 alone
    refuse_r1_with_clipping(0.0, 0.01)  # clipping alone
