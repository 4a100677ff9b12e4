"""Adversarial objectives as pure functions on discriminator logits.

``OBJECTIVES`` maps the names used in configs (``model.init_args.loss``) to a
``(discriminator_loss, generator_loss)`` pair; models look their loss up here so
adding an objective never touches the training step.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from torch import Tensor

from lit_gan.losses import adversarial


class Objective(NamedTuple):
    discriminator: Callable[..., Tensor]  # (real_logits, fake_logits, real_label) -> loss
    generator: Callable[[Tensor], Tensor]  # (fake_logits) -> loss


OBJECTIVES: dict[str, Objective] = {
    "non_saturating": Objective(adversarial.discriminator_loss, adversarial.generator_loss_non_saturating),
    "minimax": Objective(adversarial.discriminator_loss, adversarial.generator_loss_minimax),
}


def get_objective(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ValueError(f"Unknown loss {name!r}; choose one of {sorted(OBJECTIVES)}") from None
