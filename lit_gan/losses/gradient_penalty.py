"""The WGAN-GP gradient penalty (Gulrajani et al. 2017, "Improved Training of Wasserstein
GANs", eq. 3 and Alg. 1 lines 6-7).

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


def gradient_norms(critic: Callable[[Tensor], Tensor], points: Tensor, group: int = 1) -> Tensor:
    """``||grad_x D(x)||_2`` at each of ``points`` (N, ...) -> (N / group,) float32, differentiable.

    Each critic output depends only on its own sample (no BatchNorm), so the gradient of
    the summed outputs is the per-sample gradient. A packed critic (``group`` = m, PacGAN)
    makes one output of m consecutive samples: its input is their concatenation, so the
    norm is taken over the m samples' gradients together.
    """
    points = points.detach().requires_grad_(True)
    out = critic(points)
    (grads,) = torch.autograd.grad(out.sum(), points, create_graph=True)
    return torch.linalg.vector_norm(grads.float().reshape(len(points) // group, -1), dim=1)


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
