"""Hinge GAN objectives (Lim et al. 2017, "Geometric GAN"; the form used by Miyato et
al. 2018, "Spectral Normalization for GANs", sec. 4).

The discriminator's raw output is a margin score (no sigmoid):

    D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]
    G: -E[D(G(z))]

D only gets a gradient from samples inside the margin (real scored below 1, fakes above
-1); G's loss is linear in the score, so it never saturates.

There are no targets here, only margins, so label smoothing has no meaning: ``real_label``
exists only to share the objectives' call signature and must be 1.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def discriminator_loss(real_out: Tensor, fake_out: Tensor, real_label: float = 1.0) -> Tensor:
    """``E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]`` (Lim et al. 2017; Miyato et al. 2018)."""
    if real_label != 1.0:
        raise ValueError(
            f"the hinge loss has margins, not targets: label smoothing (real_label={real_label}) does not apply; "
            "use real_label 1 (model.init_args.label_smoothing: 0)"
        )
    return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()


def generator_loss(fake_out: Tensor) -> Tensor:
    """``-E[D(G(z))]`` (Lim et al. 2017; Miyato et al. 2018)."""
    return -fake_out.mean()
