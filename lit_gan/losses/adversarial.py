"""The original GAN objectives (Goodfellow et al. 2014), written on logits.

Every function takes the discriminator's raw logits ``D(x)`` (no sigmoid) and uses
``softplus`` identities, so ``log(sigmoid(l))`` never underflows to ``-inf``:

    -log D(x)       = softplus(-l)
    -log(1 - D(x))  = softplus(l)

Each returns a scalar mean over the batch, the quantity to *minimise*.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    """D's loss, eq. 1 of Goodfellow et al. 2014: ``-[log D(x) + log(1 - D(G(z)))]``.

    ``real_label < 1`` is one-sided label smoothing (Salimans et al. 2016, sec. 3.4):
    the target for real images becomes e.g. 0.9, fakes keep target 0, so D is
    discouraged from over-confident real predictions without pulling fakes toward data.
    """
    if not 0.0 < real_label <= 1.0:
        raise ValueError(f"real_label must be in (0, 1], got {real_label} (0.9 is the usual smoothing)")
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    fake = F.softplus(fake_logits).mean()  # -log(1 - D(G(z)))
    return real + fake


def generator_loss_minimax(fake_logits: Tensor) -> Tensor:
    """The saturating generator loss of eq. 1: minimise ``log(1 - D(G(z)))``.

    Kept for the paper's comparison: early in training D rejects fakes with high
    confidence, ``D(G(z)) -> 0``, where this loss is flat and G gets almost no gradient.
    """
    return -F.softplus(fake_logits).mean()


def generator_loss_non_saturating(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss: minimise ``-log D(G(z))``.

    Goodfellow et al. 2014, sec. 3: same fixed point as the minimax game, but strong
    gradients exactly when D confidently rejects the fakes. The default everywhere.
    """
    return F.softplus(-fake_logits).mean()
