"""Gradient penalties on the critic: WGAN-GP (Gulrajani et al. 2017, "Improved Training of
Wasserstein GANs", eq. 3 and Alg. 1 lines 6-7) and R1 (Mescheder et al. 2018, "Which Training
Methods for GANs do actually Converge?", eq. 9), sharing one input-gradient path.

A differentiable critic is 1-Lipschitz iff its gradient norm is at most 1 everywhere; the
optimal critic has norm exactly 1 on the lines between coupled real and fake points
(Prop. 1). So the penalty is enforced on random points of such lines:

    eps ~ U[0, 1] per sample,  x_hat = eps x + (1 - eps) G(z)
    penalty = lambda * E[(||grad_{x_hat} D(x_hat)||_2 - 1)^2]        (two-sided)

The inner gradient comes from ``torch.autograd.grad(..., create_graph=True)`` so the
penalty can itself be back-propagated into the critic's parameters. It differentiates
with respect to ``x_hat`` only and never writes ``.grad``, so under DDP the parameters'
all-reduce hooks fire once, in the outer backward. (``backward(create_graph=True)`` would
also accumulate the inner gradient into the parameters' ``.grad`` and fire them twice.)

Precision: under autocast the critic runs in bf16/fp16 and the inner gradient in the same
graph; the per-sample norm is computed in float32. Prefer bf16-mixed or fp32: under
fp16 the inner gradient is not loss-scaled and can underflow (lit_gan refuses 16-mixed with a
penalty, see lit_gan.models.wgan).

R1 penalises the gradient on real data only, toward 0 (D's gradient vanishes at the
equilibrium where G matches the data; the penalty makes that equilibrium locally convergent,
Mescheder et al. 2018 Thm. 4.1):

    penalty = gamma / 2 * E_x~data[||grad_x D(x)||_2^2]                   (eq. 9)

Lazy (StyleGAN2, Karras et al. 2020 "Analyzing and Improving the Image Quality of StyleGAN",
sec. 3.1): computed every ``interval`` D steps only and multiplied by ``interval`` so its
average weight is unchanged (stylegan2-ada-pytorch: ``gain = phase.interval``, D_reg_interval
16). StyleGAN2 also rescales Adam's lr and betas by interval / (interval + 1) because its lazy
penalty takes its own optimizer step; added to that D step's loss, as here, it takes none.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from lit_gan.errors import SettingError

FLOAT16_PRECISIONS = ("16-mixed", "16-true", "16")


def interpolate(real: Tensor, fake: Tensor, eps: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """``eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1]`` per sample (Alg. 1 line 6).

    ``eps`` may be given, shape (N,); otherwise it is drawn (from ``generator`` if given).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    n = real.shape[0]
    if eps is None:
        eps = torch.rand(n, device=real.device, generator=generator)
    if eps.shape != (n,):
        raise ValueError(f"eps must have shape ({n},), one value per sample; got {tuple(eps.shape)}")
    eps = eps.to(real.dtype).view(n, *([1] * (real.dim() - 1)))  # broadcast over (C, H, W) or (D,)
    return eps * real + (1.0 - eps) * fake.to(real.dtype)


def input_gradients(critic: Callable[[Tensor], Tensor], points: Tensor, group: int = 1) -> Tensor:
    """``grad_x D(x)`` at each of ``points`` (N, ...) -> (N / group, -1) float32, differentiable.

    Each critic output depends only on its own sample (no BatchNorm), so the gradient of
    the summed outputs is the per-sample gradient. A packed critic (``group`` = m, PacGAN)
    makes one output of m consecutive samples: its input is their concatenation, so one row
    holds the m samples' gradients together.
    """
    points = points.detach().requires_grad_(True)
    out = critic(points)
    (grads,) = torch.autograd.grad(out.sum(), points, create_graph=True)
    return grads.float().reshape(len(points) // group, -1)


def gradient_norms(critic: Callable[[Tensor], Tensor], points: Tensor, group: int = 1) -> Tensor:
    """``||grad_x D(x)||_2`` at each of ``points`` (N, ...) -> (N / group,) float32, differentiable."""
    return torch.linalg.vector_norm(input_gradients(critic, points, group), dim=1)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,  # Gulrajani et al. 2017, Alg. 1: lambda = 10
    eps: Tensor | None = None,
    group: int = 1,
) -> Tensor:
    """``weight * E[(||grad D(x_hat)||_2 - 1)^2]`` on random interpolates of real and fake.

    Returns the weighted penalty (the term added to the critic's loss), a float32 scalar
    whose gradient reaches the critic's parameters. ``fake`` is detached: the penalty
    trains the critic only. ``group`` = m for a packed critic: one interpolation weight per
    pack of m consecutive samples (a packed input is one point of the critic's domain) and
    one norm per pack.
    """
    if weight < 0:
        raise ValueError(f"gradient penalty weight must be >= 0, got {weight} (the paper's lambda is 10)")
    if group < 1 or len(real) % group:
        raise ValueError(f"gradient penalty: {len(real)} samples do not form packs of {group}")
    if eps is None and group > 1:
        eps = torch.rand(len(real) // group, device=real.device).repeat_interleave(group)
    x_hat = interpolate(real.detach(), fake.detach(), eps)
    norms = gradient_norms(critic, x_hat, group)
    return weight * ((norms - 1.0) ** 2).mean()


def r1_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    gamma: float = 10.0,  # eq. 9's gamma; StyleGAN2-ADA cfg 'stylegan2': gamma = 10 (see below)
    interval: int = 1,
    group: int = 1,
) -> Tensor:
    """``interval * gamma / 2 * E[||grad D(x)||_2^2]`` on the real batch (eq. 9).

    Returns the term to add to the critic's loss on the steps where it is applied (every
    ``interval``-th D step when lazy; ``interval`` = 1 applies it every step), a float32 scalar
    whose gradient reaches the critic's parameters. The squared norm is summed from the
    gradient directly (no square root: finite where the gradient is 0). ``group`` = m for a
    packed critic: one squared norm per pack.

    gamma as in eq. 9 (with its 1/2), as StyleGAN2 (``r1_gamma / 2``). Mescheder et al.'s code
    (GAN_stability configs, ``reg_param: 10.``) multiplies E||grad||^2 by reg_param without the
    1/2: their runs are gamma = 20 in eq. 9's terms.
    """
    check_r1_settings(gamma, interval)
    if group < 1 or len(real) % group:
        raise ValueError(f"R1 penalty: {len(real)} samples do not form packs of {group}")
    squared_norms = input_gradients(critic, real, group).square().sum(dim=1)
    return interval * gamma / 2 * squared_norms.mean()


def check_r1_settings(gamma: float, interval: int) -> None:
    """Refuse, in one line, an R1 weight or lazy interval that cannot work."""
    if not gamma >= 0:
        raise SettingError(f"R1 gamma must be >= 0, got {gamma} (Mescheder et al. 2018 use 10)")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise SettingError(f"R1 interval must be a whole number of D steps >= 1, got {interval!r} "
                           "(1: every step; StyleGAN2's lazy R1 uses 16)")


def refuse_r1_with_clipping(gamma: float, clip_value: float | None) -> None:
    """R1 with WGAN weight clipping: clipping bounds the critic's weights to [-c, c] (Arjovsky et
    al. 2017), R1 pulls its gradient on the data to 0; two constraints for two objectives."""
    if gamma > 0 and clip_value is not None:
        raise SettingError(
            f"R1 (gamma {gamma}) and WGAN weight clipping (clip_value {clip_value}) constrain the critic twice; "
            "set model.init_args.clip_value to null (the Wasserstein critic is then constrained by R1 or a "
            "gradient penalty) or turn R1 off")


def refuse_float16(precision: str) -> None:
    """fp16 with a gradient penalty: the penalty's inner gradient is taken in float16 without loss
    scaling and under- or overflows (NaN losses are a known WGAN-GP report)."""
    if str(precision) in FLOAT16_PRECISIONS:
        raise SettingError(
            f"precision {precision} is not supported with a gradient penalty: the penalty's inner gradient is "
            "taken in float16 without loss scaling and under- or overflows (NaN losses are a known WGAN-GP "
            "report); use --trainer.precision bf16-mixed (same speed on GPUs that have it) or 32-true")


def refuse_batch_norm(model: str, discriminator: nn.Module, name: str) -> None:
    """A gradient penalty is per sample, and BatchNorm couples the batch (Gulrajani et al.
    2017, sec. 4): refuse a critic that has BatchNorm, naming where."""
    norms = [n for n, m in discriminator.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        raise ValueError(
            f"{model}: a gradient penalty needs a critic without BatchNorm (the penalty is per sample; BatchNorm "
            f"couples the batch, Gulrajani et al. 2017 sec. 4), but the {name!r} critic has BatchNorm at {norms}; "
            "set model.init_args.discriminator_options.norm to 'layer' (recommended) or 'none'")
