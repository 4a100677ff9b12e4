"""WGAN / WGAN-GP one-step tests: clipping, the penalty, paper defaults, precision, checkpoints."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from lit_gan.errors import SettingError
from lit_gan.evaluation.checkpoints import load_model
from lit_gan.losses.gradient_penalty import gradient_penalty
from lit_gan.losses.wasserstein import critic_loss, generator_loss
from lit_gan.models import WGAN, WGANGP
from lit_gan.models.gan import DCGAN
from tests.models.replay import replayed_discriminator_step
from tests.models.test_gan import StepSpy, _changed, _loader, _params, _trainer, check_generator_step_leaves_d_alone

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*no `val_dataloader`"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]

C = 0.01
OUTPUT_BIAS = "net.5.bias"  # the 28x28 DCGAN critic's last conv: cancels in E[D(G(z))] - E[D(x)]


def _wgan(cls=WGAN, **kw):
    kw.setdefault("discriminator_options", {"features": 8})
    return cls(data_shape=(1, 28, 28), generator_options={"features": 8}, **kw)


def _ring_model(cls=WGANGP, **kw):
    return cls(data_shape=(2,), latent_dim=4, generator="mlp", discriminator="mlp",
               generator_options={"hidden": [16], "output": "linear"}, discriminator_options={"hidden": [16]}, **kw)


def _batch_norms(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class ClipSpy(StepSpy):
    """Also records, before each step, the largest |parameter| of the critic."""

    def _hook(self, name, model):
        inner = super()._hook(name, model)

        def hook(opt, args, kwargs):
            inner(opt, args, kwargs)
            self.steps[-1]["d_max_abs"] = max(p.abs().max().item() for p in model.discriminator.parameters())

        return hook


# ---- WGAN: weight clipping ------------------------------------------------------------------------
def test_wgan_critic_step_changes_only_the_critic_and_clips_it():
    torch.manual_seed(0)
    model = _wgan()
    g0, d0 = _params(model.generator), _params(model.discriminator)
    assert max(p.abs().max().item() for p in model.discriminator.parameters()) > C  # N(0, 0.02), BN scales ~1
    trainer = _trainer(limit_train_batches=1)
    trainer.fit(model, _loader(1))
    assert (model.batches_seen, model.iterations, trainer.global_step) == (1, 0, 1)
    assert _changed(g0, model.generator) == set()
    assert _changed(d0, model.discriminator) == set(d0) - {OUTPUT_BIAS}  # zero gradient, zero RMSProp step
    for name, p in model.discriminator.named_parameters():
        assert p.abs().max().item() <= C, name
    assert all(p.requires_grad for p in model.parameters())


def test_wgan_clips_every_critic_weight_after_every_critic_step():
    torch.manual_seed(0)
    model = _wgan(n_critic=2)
    with torch.no_grad():  # start far outside [-c, c] so clipping is what brings them back
        for p in model.discriminator.parameters():
            p.uniform_(-0.5, 0.5)
    spy = ClipSpy()
    _trainer(callbacks=[spy]).fit(model, _loader(4))
    assert spy.order == "ddgddg"
    assert spy.steps[0]["d_max_abs"] > 0.4  # before the first critic step: unclipped
    for step in spy.steps[1:]:  # before every later step (critic or generator) the critic is clipped
        assert step["d_max_abs"] <= C
    params = torch.cat([p.detach().flatten() for p in model.discriminator.parameters()])
    assert params.abs().max() <= C and (params.abs() == C).float().mean() > 0.1  # clamped, not rescaled


def test_wgan_generator_step_leaves_the_critic_alone():
    torch.manual_seed(0)
    check_generator_step_leaves_d_alone(_wgan(n_critic=1))


def test_wgan_full_iteration_is_five_critic_steps_then_one_generator_step():
    torch.manual_seed(0)
    model = _wgan()
    spy = StepSpy()
    trainer = _trainer(callbacks=[spy])
    trainer.fit(model, _loader(10))
    assert spy.order == "dddddg" * 2 and model.iterations == 2 and trainer.global_step == 12
    for step in spy.steps:
        own, other = ("d_requires_grad", "g_requires_grad") if step["net"] == "d" else ("g_requires_grad", "d_requires_grad")
        assert all(step[own]) and not any(step[other])
    assert all(p.requires_grad for p in model.parameters())


def test_wgan_losses_and_logged_estimate():
    model = _wgan()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    loss, logs, real_out, fake_out = replayed_discriminator_step(model, x)
    torch.testing.assert_close(loss, critic_loss(real_out, fake_out))
    torch.testing.assert_close(logs["train/wasserstein"], real_out.mean() - fake_out.mean())
    torch.testing.assert_close(logs["train/wasserstein"], -loss)
    assert "train/gradient_penalty" not in logs
    torch.manual_seed(2)
    g_loss, _ = model.generator_loss(x)
    torch.manual_seed(2)
    with torch.no_grad():
        expected = generator_loss(model.discriminator(model.generator(model.noise(4))))
    torch.testing.assert_close(g_loss.detach(), expected)


def test_wgan_defaults_are_arjovsky_alg_1():
    model = _wgan()
    hp = model.hparams
    assert (hp.n_critic, hp.n_gen, hp.clip_value, hp.gp_weight, hp.noise) == (5, 1, 0.01, 0.0, "normal")
    assert model.objective.discriminator is critic_loss and model.objective.generator is generator_loss
    opt_g, opt_d = model.configure_optimizers()  # constant learning rates: no schedules
    for opt in (opt_g, opt_d):
        assert type(opt) is torch.optim.RMSprop
        assert opt.param_groups[0]["lr"] == 5e-5 and opt.param_groups[0]["momentum"] == 0.0
    assert model.optimizer_steps_per_iteration == 6
    assert not any(isinstance(m, nn.Sigmoid) for m in model.discriminator.modules())
    assert _batch_norms(model.discriminator)  # the DCGAN critic as in the authors' code


# ---- WGAN-GP: the gradient penalty ------------------------------------------------------------------
def test_wgangp_defaults_are_gulrajani_alg_1_without_batchnorm_in_the_critic():
    model = WGANGP(data_shape=(1, 28, 28))  # the default critic, no options
    hp = model.hparams
    assert (hp.gp_weight, hp.n_critic, hp.clip_value) == (10.0, 5, None)
    assert model.objective.discriminator is critic_loss
    assert hp.discriminator_options == {"norm": "layer"}  # saved explicitly in the checkpoint's hparams
    assert _batch_norms(model.discriminator) == []
    assert any(isinstance(m, nn.GroupNorm) and m.num_groups == 1 for m in model.discriminator.modules())
    assert _batch_norms(model.generator)  # the generator keeps BatchNorm
    for opt in model.configure_optimizers():
        assert type(opt) is torch.optim.Adam
        assert opt.param_groups[0]["lr"] == 1e-4 and opt.param_groups[0]["betas"] == (0.0, 0.9)


def test_wgangp_options_without_norm_get_layer_norm_and_none_is_allowed():
    assert _wgan(WGANGP).hparams.discriminator_options == {"norm": "layer", "features": 8}
    model = _wgan(WGANGP, discriminator_options={"features": 8, "norm": "none"})
    assert not any(isinstance(m, (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)) for m in model.discriminator.modules())


@pytest.mark.parametrize("make", [
    lambda: _wgan(WGANGP, discriminator_options={"features": 8, "norm": "batch"}),
    lambda: _wgan(WGAN, gp_weight=1.0),  # WGAN's default critic has BatchNorm
])
def test_gradient_penalty_with_a_batchnorm_critic_is_refused(make):
    with pytest.raises(ValueError, match=r"gradient penalty needs a critic without BatchNorm.*\['net.3'\].*norm to 'layer'"):
        make()


def test_wgan_without_clipping_or_penalty_warns():
    with pytest.warns(UserWarning, match="leaves the critic unconstrained"):
        _ring_model(WGAN, clip_value=None)


@pytest.mark.parametrize("kw, match", [
    ({"clip_value": 0.0}, "clip_value must be positive or null"),
    ({"clip_value": -0.01}, "clip_value must be positive or null"),
    ({"gp_weight": -1.0}, "gp_weight must be >= 0"),
])
def test_bad_constraint_options_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        _ring_model(WGAN, **kw)


def test_wgangp_critic_loss_adds_the_penalty_and_logs_both_terms():
    model = _wgan(WGANGP)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    torch.manual_seed(1)
    loss, logs = model.discriminator_loss(x)
    torch.manual_seed(1)
    with torch.no_grad():
        fake = model.generator(model.noise(4))
        real_out, fake_out = model.discriminator(x), model.discriminator(fake)
    penalty = gradient_penalty(model.discriminator, x, fake, weight=10.0)  # the same eps: next draw of the stream
    torch.testing.assert_close(logs["train/gradient_penalty"].detach(), penalty.detach())
    torch.testing.assert_close(loss.detach(), critic_loss(real_out, fake_out) + penalty.detach())
    torch.testing.assert_close(logs["train/wasserstein"].detach(), real_out.mean() - fake_out.mean())
    assert penalty.item() > 0


def test_wgangp_critic_step_changes_only_the_critic_and_does_not_clip():
    torch.manual_seed(0)
    model = _wgan(WGANGP)
    g0, d0 = _params(model.generator), _params(model.discriminator)
    spy = StepSpy()
    _trainer(limit_train_batches=1, callbacks=[spy]).fit(model, _loader(1))
    assert spy.order == "d"
    assert _changed(g0, model.generator) == set()
    assert _changed(d0, model.discriminator) == set(d0) - {OUTPUT_BIAS}  # no gradient from either term
    assert max(p.abs().max().item() for p in model.discriminator.parameters()) > 0.5  # GroupNorm scales ~1: no clipping
    assert all(p.requires_grad for p in model.parameters())


def test_wgangp_on_the_ring_logs_its_terms(tmp_path):
    torch.manual_seed(0)
    model = _ring_model()
    trainer = _trainer(limit_val_batches=1)
    trainer.fit(model, _loader(10, shape=(2,), batch_size=8), _loader(1, shape=(2,), batch_size=8))
    assert model.iterations == 2
    m = trainer.callback_metrics
    for key in ("train/wasserstein", "train/gradient_penalty", "train/loss_d", "train/loss_g", "val/wasserstein", "val/d_real"):
        assert math.isfinite(m[key].item()), key
    assert m["train/gradient_penalty"].item() >= 0
    assert model.sample(7).shape == (7, 2)


# ---- precision -------------------------------------------------------------------------------------
def test_float16_is_refused_with_a_penalty_only():
    model = _ring_model()
    for bad in ("16-mixed", "16-true"):
        model.trainer = SimpleNamespace(precision=bad)
        # a SettingError: one line and exit 2 from the CLI (a plain ValueError here was a traceback, exit 1)
        with pytest.raises(SettingError, match=f"precision {bad} is not supported with a gradient penalty.*bf16-mixed"):
            model.on_fit_start()
    for ok in ("bf16-mixed", "32-true"):
        model.trainer = SimpleNamespace(precision=ok)
        model.on_fit_start()
    clipped = _ring_model(WGAN)  # no penalty: the GradScaler handles WGAN like any GAN
    clipped.trainer = SimpleNamespace(precision="16-mixed")
    clipped.on_fit_start()


def test_wgangp_trains_under_bf16_mixed():
    torch.manual_seed(0)
    model = _wgan(WGANGP)
    trainer = _trainer(precision="bf16-mixed")
    trainer.fit(model, _loader(5))
    m = trainer.callback_metrics
    assert model.iterations == 1
    for key in ("train/loss_d", "train/loss_g", "train/gradient_penalty", "train/wasserstein"):
        assert math.isfinite(m[key].item()), key
    assert all(torch.isfinite(p).all() and p.dtype == torch.float32 for p in model.parameters())


# ---- checkpoints -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [WGAN, WGANGP])
def test_checkpoint_round_trip_keeps_class_and_options(cls, tmp_path):
    torch.manual_seed(0)
    model = _wgan(cls)
    trainer = _trainer()
    trainer.fit(model, _loader(5))
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    loaded = load_model(tmp_path / "last.ckpt")
    assert type(loaded) is cls and not isinstance(loaded, DCGAN)
    assert (loaded.clip_value, loaded.gp_weight, loaded.iterations) == (model.clip_value, model.gp_weight, 1)
    assert loaded.hparams.discriminator_options == model.hparams.discriminator_options
    z = model.noise(3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(loaded.generate(z), model.generate(z))
