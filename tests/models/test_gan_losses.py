"""GAN / DCGAN with the least-squares, hinge and Wasserstein objectives (model.init_args.loss)."""

from __future__ import annotations

import math

import pytest
import torch

from lit_gan.losses import hinge, least_squares
from lit_gan.models import DCGAN, GAN
from tests.models.test_gan import StepSpy, _changed, _loader, _params, _trainer

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*no `val_dataloader`"),
    pytest.mark.filterwarnings("ignore:loss 'wasserstein' in a GAN"),  # tested on its own below
]


def _dcgan(**kw) -> DCGAN:
    return DCGAN(data_shape=(1, 28, 28), generator_options={"features": 8}, discriminator_options={"features": 8}, **kw)


def _recompute(model, x, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        fake = model.generator(model.noise(x.shape[0]))
        return model.discriminator(x), model.discriminator(fake)


@pytest.mark.parametrize("loss", ["least_squares", "hinge", "wasserstein"])
def test_each_loss_trains_one_iteration_touching_the_right_nets(loss):
    torch.manual_seed(0)
    model = _dcgan(loss=loss)
    g0, d0 = _params(model.generator), _params(model.discriminator)
    spy = StepSpy()
    trainer = _trainer(limit_train_batches=2, callbacks=[spy])
    trainer.fit(model, _loader(2))
    assert spy.order == "dgdg"
    for step in spy.steps:
        own, other = ("d_requires_grad", "g_requires_grad") if step["net"] == "d" else ("g_requires_grad", "d_requires_grad")
        assert all(step[own]) and not any(step[other])
    assert _changed(g0, model.generator) == set(g0)
    changed_d = _changed(d0, model.discriminator)
    # D's output bias cancels in E[D(G(z))] - E[D(x)] (and in the hinge loss while every score is
    # inside the margin, as at initialisation): zero gradient, so Adam leaves it alone
    expected_d = set(d0) - {"net.5.bias"} if loss in ("wasserstein", "hinge") else set(d0)
    assert changed_d == expected_d
    assert all(p.requires_grad for p in model.parameters())
    m = trainer.callback_metrics
    assert math.isfinite(m["train/loss_d"].item()) and math.isfinite(m["train/loss_g"].item())


@pytest.mark.parametrize("loss", ["least_squares", "hinge"])
def test_discriminator_loss_and_raw_scores_are_logged(loss):
    model = _dcgan(loss=loss)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    torch.manual_seed(1)
    got, logs = model.discriminator_loss((x, torch.zeros(4)))
    real_out, fake_out = _recompute(model, x, 1)
    fn = least_squares.discriminator_loss if loss == "least_squares" else hinge.discriminator_loss
    torch.testing.assert_close(got.detach(), fn(real_out, fake_out))
    # no sigmoid for these losses: d_real / d_fake are the mean raw scores
    torch.testing.assert_close(logs["train/d_real"].detach(), real_out.mean())
    torch.testing.assert_close(logs["train/d_fake"].detach(), fake_out.mean())


def test_least_squares_label_smoothing_sets_the_real_target_b():
    model = _dcgan(loss="least_squares", label_smoothing=0.1)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    torch.manual_seed(2)
    got, _ = model.discriminator_loss(x)
    real_out, fake_out = _recompute(model, x, 2)
    expected = 0.5 * ((real_out - 0.9) ** 2).mean() + 0.5 * (fake_out**2).mean()
    torch.testing.assert_close(got.detach(), expected)
    assert abs(expected - least_squares.discriminator_loss(real_out, fake_out)) > 1e-4


@pytest.mark.parametrize("loss", ["hinge", "wasserstein"])
def test_label_smoothing_is_refused_for_losses_without_targets(loss):
    with pytest.raises(ValueError, match=rf"label_smoothing=0.1 does not apply to the '{loss}' loss.*label_smoothing: 0"):
        _dcgan(loss=loss, label_smoothing=0.1)
    _dcgan(loss=loss, label_smoothing=0.0)


def test_gan_on_2d_points_with_hinge_loss():
    torch.manual_seed(0)
    model = GAN(data_shape=(2,), latent_dim=4, noise="normal", generator="mlp", discriminator="mlp",
                generator_options={"hidden": [8], "output": "linear"}, discriminator_options={"hidden": [8]},
                loss="hinge", optimizer="adam", lr_g=1e-3, lr_d=1e-3, lr_schedule="constant", final_momentum=None)
    trainer = _trainer()
    trainer.fit(model, _loader(3, shape=(2,), batch_size=8))
    assert model.iterations == 3 and model.sample(5).shape == (5, 2)


def test_wasserstein_loss_without_a_constraint_warns():
    with pytest.warns(UserWarning, match="no Lipschitz constraint.*WGAN"):
        _dcgan(loss="wasserstein")
