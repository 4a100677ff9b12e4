"""The OBJECTIVES registry: each name's functions, how D's output is read, label smoothing."""

from __future__ import annotations

import pytest
import torch

from lit_gan.losses import OBJECTIVES, adversarial, get_objective, hinge, least_squares, wasserstein


@pytest.mark.parametrize(
    "name, d_loss, g_loss, output, smoothing",
    [
        ("non_saturating", adversarial.discriminator_loss, adversarial.generator_loss_non_saturating, "logit", True),
        ("minimax", adversarial.discriminator_loss, adversarial.generator_loss_minimax, "logit", True),
        ("least_squares", least_squares.discriminator_loss, least_squares.generator_loss, "score", True),
        ("least_squares_sigmoid", least_squares.discriminator_loss_sigmoid, least_squares.generator_loss_sigmoid,
         "logit", True),
        ("hinge", hinge.discriminator_loss, hinge.generator_loss, "score", False),
        ("wasserstein", wasserstein.critic_loss, wasserstein.generator_loss, "score", False),
    ],
)
def test_registry_entries(name, d_loss, g_loss, output, smoothing):
    objective = get_objective(name)
    assert objective.discriminator is d_loss and objective.generator is g_loss
    assert objective.output == output and objective.label_smoothing is smoothing


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_takes_the_shared_call_signature(name):
    objective = OBJECTIVES[name]
    real, fake = torch.randn(5), torch.randn(3)
    for loss in (objective.discriminator(real, fake, 1.0), objective.discriminator(real, fake), objective.generator(fake)):
        assert loss.shape == () and torch.isfinite(loss)
    # only the objectives that declare smoothing accept a real target below 1
    if objective.label_smoothing:
        objective.discriminator(real, fake, 0.9)
    else:
        with pytest.raises(ValueError, match="label_smoothing: 0"):
            objective.discriminator(real, fake, 0.9)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_generator_loss_pushes_the_fake_score_up(name):
    # minimising G's loss must raise D(G(z)) (negative gradient) at any moderate score
    fake = torch.tensor([-2.0, 0.0, 0.5], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(OBJECTIVES[name].generator(fake), fake)
    assert (grad < 0).all(), grad
