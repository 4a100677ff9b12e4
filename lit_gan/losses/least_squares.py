"""Least-squares GAN objectives (Mao et al. 2017, "Least Squares Generative Adversarial
Networks", eq. 2 with the 0-1-1 coding a = 0, b = 1, c = 1).

The discriminator is a regressor: its raw output (no sigmoid) is pulled toward ``b`` on
real data and ``a`` on fakes, and the generator pulls it toward ``c`` on its samples:

    D: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]       a = 0, b = 1
    G: 1/2 E[(D(G(z)) - c)^2]                             c = 1

Unlike the sigmoid cross-entropy, the squared error keeps penalising fakes that are
classified correctly but lie far from the real data, so G's gradient does not vanish
(the paper's argument for LSGAN). Each function returns a scalar mean over the batch, the quantity to minimise.

``real_label`` is ``b``: values below 1 are one-sided label smoothing, D regresses real
data to e.g. 0.9 instead of 1 (the same role as in the cross-entropy loss); fakes keep
``a = 0`` and G's target stays ``c = 1``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def discriminator_loss(real_out: Tensor, fake_out: Tensor, real_label: float = 1.0) -> Tensor:
    """``1/2 E[(D(x) - b)^2] + 1/2 E[D(G(z))^2]`` with ``b = real_label`` (Mao et al. 2017, eq. 2)."""
    if not 0.0 < real_label <= 1.0:
        raise ValueError(f"real_label must be in (0, 1], got {real_label} (0.9 is the usual smoothing)")
    return 0.5 * ((real_out - real_label) ** 2).mean() + 0.5 * (fake_out**2).mean()


def generator_loss(fake_out: Tensor) -> Tensor:
    """``1/2 E[(D(G(z)) - 1)^2]`` (Mao et al. 2017, eq. 2, c = 1)."""
    return 0.5 * ((fake_out - 1.0) ** 2).mean()


# compare_gan's LSGAN (the implementation behind Lucic et al. 2018's LSGAN rows) squares
# the error of D's *sigmoid* output, not of a raw score as Mao et al. do. Bounded in
# [0, 1], its gradient vanishes when the sigmoid saturates, unlike the paper's loss.
def discriminator_loss_sigmoid(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    """``1/2 E[(sigmoid(D(x)) - b)^2] + 1/2 E[sigmoid(D(G(z)))^2]`` on logits (compare_gan's LSGAN)."""
    return discriminator_loss(torch.sigmoid(real_logits), torch.sigmoid(fake_logits), real_label)


def generator_loss_sigmoid(fake_logits: Tensor) -> Tensor:
    """``1/2 E[(sigmoid(D(G(z))) - 1)^2]`` on logits (compare_gan's LSGAN)."""
    return generator_loss(torch.sigmoid(fake_logits))
