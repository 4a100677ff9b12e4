"""Replaying a model's discriminator step from a seed, to check its loss and logs by hand."""

from __future__ import annotations

import torch
from torch import Tensor


def replayed_discriminator_step(model, x: Tensor, seed: int = 1) -> tuple[Tensor, dict, Tensor, Tensor]:
    """``model.discriminator_loss`` on ``(x, zeros)``, then, from the same seed, D's outputs on x and
    on the fakes that step drew: (loss, logs, real_out, fake_out)."""
    torch.manual_seed(seed)
    loss, logs = model.discriminator_loss((x, torch.zeros(len(x))))
    torch.manual_seed(seed)
    with torch.no_grad():
        fake = model.generator(model.noise(len(x)))
        real_out, fake_out = model.discriminator(x), model.discriminator(fake)
    return loss.detach(), {k: v.detach() for k, v in logs.items()}, real_out, fake_out
