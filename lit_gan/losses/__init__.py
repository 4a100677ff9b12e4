"""Adversarial objectives as pure functions on the discriminator's raw outputs.

``OBJECTIVES`` maps the names used in configs (``model.init_args.loss``) to an
:class:`Objective`; models look their loss up here so adding an objective never touches
the training step.

=====================  ==========================================  ============  ===============
name                   paper                                       D's output    label smoothing
=====================  ==========================================  ============  ===============
non_saturating         Goodfellow et al. 2014, sec. 3              logit         real target
minimax                Goodfellow et al. 2014, eq. 1               logit         real target
least_squares          Mao et al. 2017, eq. 2 (0-1-1 coding)       score         real target b
least_squares_sigmoid  compare_gan's LSGAN (Lucic et al. 2018)     logit         real target b
hinge                  Lim et al. 2017; Miyato et al. 2018         score         not applicable
wasserstein            Arjovsky et al. 2017, Alg. 1                score         not applicable
=====================  ==========================================  ============  ===============

"logit": D's output is the logit of a probability (sigmoid gives D(x)); "score": a real
number with no sigmoid anywhere. Objectives without targets reject label smoothing.
"""

from __future__ import annotations

from typing import Callable, Literal, NamedTuple

from torch import Tensor

from lit_gan.losses import adversarial, hinge, least_squares, wasserstein


class Objective(NamedTuple):
    discriminator: Callable[..., Tensor]  # (real_out, fake_out, real_label) -> loss
    generator: Callable[[Tensor], Tensor]  # (fake_out) -> loss
    output: Literal["logit", "score"] = "logit"  # how to read D's output (see the module docstring)
    label_smoothing: bool = True  # whether real_label < 1 means anything to this loss


OBJECTIVES: dict[str, Objective] = {
    "non_saturating": Objective(adversarial.discriminator_loss, adversarial.generator_loss_non_saturating),
    "minimax": Objective(adversarial.discriminator_loss, adversarial.generator_loss_minimax),
    "least_squares": Objective(least_squares.discriminator_loss, least_squares.generator_loss, "score", True),
    "least_squares_sigmoid": Objective(least_squares.discriminator_loss_sigmoid,
                                       least_squares.generator_loss_sigmoid, "logit", True),
    "hinge": Objective(hinge.discriminator_loss, hinge.generator_loss, "score", False),
    "wasserstein": Objective(wasserstein.critic_loss, wasserstein.generator_loss, "score", False),
}


def get_objective(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ValueError(f"Unknown loss {name!r}; choose one of {sorted(OBJECTIVES)}") from None
