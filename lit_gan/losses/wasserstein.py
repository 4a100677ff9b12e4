"""Wasserstein GAN objectives and weight clipping (Arjovsky et al. 2017, "Wasserstein GAN").

By the Kantorovich-Rubinstein duality (sec. 3), over 1-Lipschitz critics f,

    W(P_r, P_g) = sup_f E_{x~P_r}[f(x)] - E_{x~P_g}[f(x)],

so the critic maximises ``E[D(x)] - E[D(G(z))]`` and the generator maximises
``E[D(G(z))]`` (Alg. 1). Written as losses to minimise:

    critic:    E[D(G(z))] - E[D(x)]
    generator: -E[D(G(z))]

The critic's output is a real number (no sigmoid). The Lipschitz constraint is enforced
outside the loss: by clipping every critic weight to [-c, c] after each update
(:func:`clip_weights_`, Alg. 1 line 7) or by a gradient penalty
(``lit_gan.losses.gradient_penalty``, Gulrajani et al. 2017).

There are no targets, so label smoothing has no meaning: ``real_label`` exists only to
share the objectives' call signature and must be 1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def critic_loss(real_out: Tensor, fake_out: Tensor, real_label: float = 1.0) -> Tensor:
    """``E[D(G(z))] - E[D(x)]``: minus the Wasserstein estimate (Arjovsky et al. 2017, Alg. 1 line 5)."""
    if real_label != 1.0:
        raise ValueError(
            f"the Wasserstein critic has no targets: label smoothing (real_label={real_label}) does not apply; "
            "use real_label 1 (model.init_args.label_smoothing: 0)"
        )
    return fake_out.mean() - real_out.mean()


def generator_loss(fake_out: Tensor) -> Tensor:
    """``-E[D(G(z))]`` (Arjovsky et al. 2017, Alg. 1 line 10)."""
    return -fake_out.mean()


def wasserstein_estimate(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """``E[D(x)] - E[D(G(z))]``: the critic's estimate of W(P_r, P_g), up to the Lipschitz
    constant (with clipping, K-Lipschitz for some K set by c and the architecture)."""
    return real_out.mean() - fake_out.mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, clip_value: float) -> None:
    """Clamp every parameter of ``module`` to ``[-clip_value, clip_value]`` in place.

    Arjovsky et al. 2017, Alg. 1 line 7: ``w <- clip(w, -c, c)`` after each critic update,
    c = 0.01. Every parameter, norm scales and biases included, as the authors' code does.
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value must be positive, got {clip_value} (the paper's is 0.01)")
    for p in module.parameters():
        p.clamp_(-clip_value, clip_value)
