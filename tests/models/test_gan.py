"""GAN / DCGAN one-step tests: which parameters each update touches, counting, schedules, sampling."""

from __future__ import annotations

import math
from types import SimpleNamespace

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lit_gan.errors import SettingError
from lit_gan.losses.adversarial import discriminator_loss, generator_loss_minimax, generator_loss_non_saturating
from lit_gan.models import DCGAN, GAN
from lit_gan.models.optim import ramped_momentum
from lit_gan.nets.layers import Maxout
from lit_gan.nets.mlp import MaxoutDiscriminator, MLPGenerator
from lit_gan.training.divergence import gradient_norm
from tests.models.replay import replayed_discriminator_step

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*no `val_dataloader`"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]


def _dcgan(**kw) -> DCGAN:
    return DCGAN(data_shape=(1, 28, 28), generator_options={"features": 8}, discriminator_options={"features": 8}, **kw)


def _small_gan(**kw) -> GAN:
    """Goodfellow's GAN (SGD, maxout D, exponential lr) at toy width on 4x4 images."""
    return GAN(
        data_shape=(1, 4, 4),
        latent_dim=8,
        generator_options={"hidden": [16]},
        discriminator_options={"units": 8, "pieces": 2},
        **kw,
    )


def _loader(n_batches: int, shape=(1, 28, 28), batch_size: int = 4) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n_batches * batch_size, *shape, generator=g) * 2 - 1
    return DataLoader(TensorDataset(x, torch.zeros(len(x), dtype=torch.long)), batch_size=batch_size)


def _trainer(**kw) -> L.Trainer:
    kw.setdefault("max_epochs", 1)
    kw.setdefault("log_every_n_steps", 1)  # the step logs only on the logger's write steps
    return L.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        **kw,
    )


def _params(module: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in module.named_parameters()}


def _changed(before: dict[str, torch.Tensor], module: nn.Module) -> set[str]:
    return {n for n, p in module.named_parameters() if not torch.equal(p.detach(), before[n])}


class StepSpy(L.Callback):
    """Records every optimizer step (before it happens): which net, requires_grad, grad norm, lr, momentum."""

    def __init__(self) -> None:
        self.steps: list[dict] = []

    def on_train_start(self, trainer, pl_module) -> None:
        names = ["g", "d"]  # configure_optimizers returns [opt_g, opt_d]
        for name, opt in zip(names, trainer.optimizers):
            opt.register_step_pre_hook(self._hook(name, pl_module))

    def _hook(self, name: str, model):
        def hook(opt, args, kwargs):
            params = [p for group in opt.param_groups for p in group["params"]]
            grads = [p.grad for p in params if p.grad is not None]
            self.steps.append(
                {
                    "net": name,
                    "g_requires_grad": [p.requires_grad for p in model.generator.parameters()],
                    "d_requires_grad": [p.requires_grad for p in model.discriminator.parameters()],
                    "grad_norm": torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item(),
                    "lr": opt.param_groups[0]["lr"],
                    "momentum": opt.param_groups[0].get("momentum"),
                }
            )

        return hook

    @property
    def order(self) -> str:
        return "".join(s["net"] for s in self.steps)


# ---- the one-step test -------------------------------------------------------------------------
def test_discriminator_only_batch_changes_only_discriminator_parameters():
    torch.manual_seed(0)
    model = _dcgan(n_critic=2)
    g0, d0 = _params(model.generator), _params(model.discriminator)
    trainer = _trainer(limit_train_batches=1)
    trainer.fit(model, _loader(1))
    assert (model.batches_seen, model.iterations, trainer.global_step) == (1, 0, 1)
    assert _changed(g0, model.generator) == set()
    for name, p in model.generator.named_parameters():
        assert torch.equal(p.detach(), g0[name]), name
    assert _changed(d0, model.discriminator) == set(d0)  # Adam moves every D parameter
    assert all(p.requires_grad for p in model.parameters())


def test_full_iteration_changes_both_nets_and_restores_requires_grad():
    torch.manual_seed(0)
    model = _dcgan(n_critic=2)
    g0, d0 = _params(model.generator), _params(model.discriminator)
    spy = StepSpy()
    trainer = _trainer(limit_train_batches=2, callbacks=[spy])
    trainer.fit(model, _loader(2))
    assert (model.batches_seen, model.iterations, trainer.global_step) == (2, 1, 3)
    assert _changed(g0, model.generator) == set(g0)
    assert _changed(d0, model.discriminator) == set(d0)
    assert all(p.requires_grad for p in model.parameters())
    # during each update the other net was frozen (toggled_optimizer), its own net trainable
    assert spy.order == "ddg"
    for step in spy.steps:
        g_on, d_on = step["g_requires_grad"], step["d_requires_grad"]
        if step["net"] == "d":
            assert all(d_on) and not any(g_on)
        else:
            assert all(g_on) and not any(d_on)


def test_generator_step_leaves_discriminator_parameters_alone():
    # drive the step's update directly: after a G update, D is bit-identical
    torch.manual_seed(0)
    check_generator_step_leaves_d_alone(_dcgan(n_critic=1))


def check_generator_step_leaves_d_alone(model) -> None:
    """One generator update changes every parameter of G, none of D, and restores requires_grad."""
    _trainer(limit_train_batches=1).fit(model, _loader(1))  # attaches a trainer and optimizers
    opt_g, _ = model.optimizers()
    g0, d0 = _params(model.generator), _params(model.discriminator)
    model._update(opt_g, model.generator_loss, next(iter(_loader(1))))
    assert _changed(d0, model.discriminator) == set()
    assert _changed(g0, model.generator) == set(g0)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(
    "n_critic, n_gen, batches, iterations, order",
    [
        (1, 1, 4, 4, "dg" * 4),
        (2, 1, 6, 3, "ddg" * 3),
        (3, 2, 7, 2, "dddgg" * 2 + "d"),
        (1, 3, 2, 2, "dggg" * 2),
    ],
)
def test_counters_follow_n_critic_and_n_gen(n_critic, n_gen, batches, iterations, order):
    torch.manual_seed(0)
    model = _dcgan(n_critic=n_critic, n_gen=n_gen)
    spy = StepSpy()
    trainer = _trainer(callbacks=[spy])
    trainer.fit(model, _loader(batches))
    assert model.batches_seen == batches
    assert model.iterations == iterations
    assert spy.order == order
    assert trainer.global_step == len(order) == batches + iterations * n_gen
    if batches % n_critic == 0:
        assert trainer.global_step == iterations * model.optimizer_steps_per_iteration


def test_max_steps_for_counts_optimizer_steps_per_generator_iteration():
    model = _dcgan(n_critic=5, n_gen=1)
    assert model.optimizer_steps_per_iteration == 6
    assert model.max_steps_for(10) == 60
    assert _dcgan(n_critic=2, n_gen=3).max_steps_for(4) == 20


@pytest.mark.parametrize("n_critic, n_gen", [(2, 1), (1, 2)])
def test_trainer_max_steps_for_n_stops_after_exactly_n_iterations(n_critic, n_gen):
    torch.manual_seed(0)
    model = _dcgan(n_critic=n_critic, n_gen=n_gen)
    trainer = _trainer(max_epochs=-1, max_steps=model.max_steps_for(4))
    trainer.fit(model, _loader(20))  # more data than needed: max_steps must stop it
    assert model.iterations == 4
    assert model.batches_seen == 4 * n_critic
    assert trainer.global_step == 4 * (n_critic + n_gen)
    assert trainer.callback_metrics["train/iteration"].item() == 4.0


def test_step_logs_only_on_the_loggers_write_steps():
    """Logging every step cost 10-20% of a small model's time (benchmarks/dcgan_speed.py)."""
    model = _dcgan()
    logged_at = []
    original = model.log_dict

    def spy(metrics, **kwargs):
        logged_at.append(model.batches_seen)
        return original(metrics, **kwargs)

    model.log_dict = spy
    _trainer(log_every_n_steps=3).fit(model, _loader(9))
    assert logged_at == [3, 6, 9]


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_logged_gradient_norms_are_each_net_s_gradient_before_clipping(loss):
    """train/grad_norm_g / _d (experiments/lessons/non_saturating.yaml): the L2 norm over the
    net's parameters of the gradient its update applied, measured before grad_clip."""
    model = _dcgan(loss=loss, grad_clip=1e-3)
    logged, norms = {}, {}
    original_log, original_step = model.log_dict, torch.optim.Adam.step

    def spy_log(metrics, **kwargs):
        logged.update({k: float(v) for k, v in metrics.items()})
        return original_log(metrics, **kwargs)

    def spy_step(opt, *args, **kwargs):  # after clipping: the norm the optimizer sees is <= 1e-3
        net = "g" if opt is model.optimizers()[0].optimizer else "d"
        norms[net] = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for g in opt.param_groups
                                                                  for p in g["params"] if p.grad is not None])))
        return original_step(opt, *args, **kwargs)

    model.log_dict = spy_log
    torch.optim.Adam.step = spy_step
    try:
        _trainer().fit(model, _loader(1))
    finally:
        torch.optim.Adam.step = original_step
    assert norms["g"] <= 1e-3 * 1.001 and norms["d"] <= 1e-3 * 1.001
    assert logged["train/grad_norm_g"] > 1e-2 and logged["train/grad_norm_d"] > 1e-2  # the raw ones, larger


def test_the_minimax_generator_gradient_vanishes_where_the_non_saturating_one_does_not():
    """Goodfellow et al. 2014, sec. 3: with D rejecting the fakes (D(G(z)) ~ 0), d/dlogit of
    log(1 - D) is -D ~ 0 while that of -log D is D - 1 ~ -1."""
    norms = {}
    for loss in ("minimax", "non_saturating"):
        torch.manual_seed(0)
        model = _dcgan(loss=loss)
        model.discriminator.requires_grad_(False)
        logits = model.discriminator(model.generator(model.noise(8))) - 20.0  # D confidently rejects every fake
        model.objective.generator(logits).backward()
        norms[loss] = float(gradient_norm(model.generator.parameters()))  # what the step logs as train/grad_norm_g
    assert norms["minimax"] < 1e-6 * norms["non_saturating"]


@pytest.mark.parametrize("kw", [{"n_critic": 0}, {"n_gen": 0}, {"grad_clip": 0.0}, {"grad_clip": -1.0}])
def test_bad_step_options_raise(kw):
    with pytest.raises(ValueError, match="n_critic and n_gen must be >= 1|grad_clip must be positive"):
        _dcgan(**kw)


# ---- paper defaults ------------------------------------------------------------------------------
def test_gan_defaults_build_the_goodfellow_mnist_setup():
    model = GAN()
    g, d = model.generator, model.discriminator
    assert isinstance(g, MLPGenerator) and isinstance(d, MaxoutDiscriminator)
    assert [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, nn.Linear)] == [
        (100, 1200), (1200, 1200), (1200, 784)
    ]
    maxouts = [m for m in d.modules() if isinstance(m, Maxout)]
    assert [(m.out_features, m.pieces) for m in maxouts] == [(240, 5), (240, 5)]
    assert model.objective.generator is generator_loss_non_saturating
    (opt_g, opt_d), schedules = model.configure_optimizers()
    for opt in (opt_g, opt_d):
        assert type(opt) is torch.optim.SGD
        assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.5
    assert {id(p) for p in opt_g.param_groups[0]["params"]} == {id(p) for p in g.parameters()}
    assert {id(p) for p in opt_d.param_groups[0]["params"]} == {id(p) for p in d.parameters()}
    assert len(schedules) == 2 and all(s["interval"] == "step" for s in schedules)
    hp = model.hparams
    assert (hp.noise, hp.final_momentum, hp.momentum_ramp_epochs, hp.lr_decay, hp.min_lr) == ("uniform", 0.7, 250, 1.000004, 1e-6)


def test_gan_uniform_noise_has_unit_variance():
    z = _small_gan().noise(20_000, torch.Generator().manual_seed(0))
    assert z.shape == (20_000, 8)
    assert z.min() >= -math.sqrt(3) and z.max() <= math.sqrt(3)
    assert abs(z.var().item() - 1.0) < 0.02 and abs(z.mean().item()) < 0.02


def test_dcgan_defaults_adam_2e4_beta05_constant_lr_normal_noise():
    model = _dcgan()
    (opt_g, opt_d), schedules = model.configure_optimizers()
    for opt in (opt_g, opt_d):
        assert type(opt) is torch.optim.Adam
        assert opt.param_groups[0]["lr"] == 2e-4 and opt.param_groups[0]["betas"] == (0.5, 0.999)
    assert schedules == []
    assert model.hparams.noise == "normal"


# ---- schedules --------------------------------------------------------------------------------------
def test_exponential_lr_divides_per_iteration_and_floors_at_min_lr():
    torch.manual_seed(0)
    model = _small_gan(lr_g=0.1, lr_d=0.04, lr_decay=2.0, min_lr=0.02, final_momentum=None)
    spy = StepSpy()
    trainer = _trainer(callbacks=[spy])
    trainer.fit(model, _loader(4, shape=(1, 4, 4)))
    assert spy.order == "dg" * 4
    lr_g = [s["lr"] for s in spy.steps if s["net"] == "g"]
    lr_d = [s["lr"] for s in spy.steps if s["net"] == "d"]
    # the schedule steps after each generator iteration: iteration k sees lr / 2**k, floored
    assert lr_g == pytest.approx([0.1, 0.05, 0.025, 0.02])
    assert lr_d == pytest.approx([0.04, 0.02, 0.02, 0.02])
    opt_g, opt_d = trainer.optimizers
    assert opt_g.param_groups[0]["lr"] == pytest.approx(0.02)  # after 4 iterations: 0.1 / 16 -> floor
    assert opt_d.param_groups[0]["lr"] == pytest.approx(0.02)


def test_paper_lr_decay_after_k_iterations():
    torch.manual_seed(0)
    model = _small_gan(n_critic=2)
    trainer = _trainer()
    trainer.fit(model, _loader(6, shape=(1, 4, 4)))
    assert model.iterations == 3
    for opt in trainer.optimizers:
        # 0.1 / 1.000004**3 differs from 0.1 by 1.2e-6 relative: rel=1e-9 tells them apart
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 / 1.000004**3, rel=1e-9)
        assert opt.param_groups[0]["lr"] != pytest.approx(0.1, rel=1e-9)


@pytest.mark.parametrize("epoch, expected", [(0, 0.5), (125, 0.6), (250, 0.7), (300, 0.7)])
def test_ramped_momentum_values(epoch, expected):
    assert ramped_momentum(epoch, 0.5, 0.7, 250) == pytest.approx(expected, abs=1e-12)


def test_ramped_momentum_without_ramp_is_final():
    assert ramped_momentum(0, 0.5, 0.7, 0) == 0.7


def test_momentum_ramp_is_applied_at_each_epoch_start():
    torch.manual_seed(0)
    model = _small_gan(momentum_ramp_epochs=2, lr_schedule="constant")
    spy = StepSpy()
    trainer = _trainer(max_epochs=3, callbacks=[spy])
    trainer.fit(model, _loader(1, shape=(1, 4, 4)))
    assert [s["momentum"] for s in spy.steps] == pytest.approx([0.5, 0.5, 0.6, 0.6, 0.7, 0.7])
    assert trainer.callback_metrics["train/momentum"].item() == pytest.approx(0.7)


# ---- losses and options -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1.0, -0.1, 1.5])
def test_label_smoothing_out_of_range_raises(value):
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
        _dcgan(label_smoothing=value)


def test_label_smoothing_sets_the_real_target():
    model = _dcgan(label_smoothing=0.2)
    loss, logs, real_logits, fake_logits = replayed_discriminator_step(model, torch.rand(4, 1, 28, 28) * 2 - 1)
    expected = discriminator_loss(real_logits, fake_logits, real_label=0.8)
    torch.testing.assert_close(loss, expected)
    assert abs(expected - discriminator_loss(real_logits, fake_logits)) > 1e-4  # smoothing matters
    torch.testing.assert_close(logs["train/d_real"], torch.sigmoid(real_logits).mean())
    torch.testing.assert_close(logs["train/d_fake"], torch.sigmoid(fake_logits).mean())


def test_loss_option_selects_the_objective():
    assert _dcgan(loss="minimax").objective.generator is generator_loss_minimax
    with pytest.raises(ValueError, match="Unknown loss 'hinge_v2'"):
        _dcgan(loss="hinge_v2")


def test_discriminator_loss_gives_no_gradient_to_the_generator():
    # D's loss draws fakes under no_grad: backward through it leaves G's grads empty
    model = _dcgan()
    loss, _ = model.discriminator_loss(torch.rand(4, 1, 28, 28) * 2 - 1)
    loss.backward()
    assert all(p.grad is None for p in model.generator.parameters())
    assert all(p.grad is not None for p in model.discriminator.parameters())


# ---- sampling ---------------------------------------------------------------------------------------------
def test_sample_shape_range_mode_and_reproducibility():
    torch.manual_seed(0)
    model = _dcgan()
    assert model.generator.training
    rng_before = torch.get_rng_state()
    x = model.sample(5, torch.Generator().manual_seed(3))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.std() > 0
    assert model.generator.training  # mode restored
    assert not x.requires_grad
    assert torch.equal(model.sample(5, torch.Generator().manual_seed(3)), x)
    assert not torch.equal(model.sample(5, torch.Generator().manual_seed(4)), x)
    assert torch.equal(torch.get_rng_state(), rng_before)  # a seeded generator leaves the global stream alone
    model.generator.eval()
    model.sample(2)
    assert not model.generator.training  # eval stays eval


def test_sample_uses_batchnorm_running_statistics():
    # eval-mode BatchNorm: a sample does not depend on the others in its batch
    torch.manual_seed(0)
    model = _dcgan()
    z = model.noise(4, torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.generate(z)[:1], model.generate(z[:1]))
    with torch.no_grad():
        train_mode = model.generator(z)
    assert not torch.allclose(train_mode, model.generate(z))


# ---- logging ---------------------------------------------------------------------------------------------
def test_logged_keys_after_training():
    torch.manual_seed(0)
    model = _dcgan()
    trainer = _trainer(limit_val_batches=1)
    trainer.fit(model, _loader(2), _loader(1))
    for metrics in (trainer.callback_metrics, trainer.logged_metrics):
        keys = set(metrics)
        assert {"train/loss_d", "train/loss_g", "train/d_real", "train/d_fake", "train/iteration"} <= keys
        assert {"val/loss_d", "val/d_real"} <= keys
    m = trainer.callback_metrics
    assert m["train/iteration"].item() == 2.0
    assert 0.0 < m["train/d_real"].item() < 1.0 and 0.0 < m["train/d_fake"].item() < 1.0
    assert m["train/loss_d"].item() > 0.0 and math.isfinite(m["train/loss_g"].item())


# ---- gradient clipping ----------------------------------------------------------------------------------
def test_grad_clip_bounds_every_update_gradient_norm():
    def run(grad_clip):
        torch.manual_seed(0)
        spy = StepSpy()
        _trainer(callbacks=[spy]).fit(_dcgan(n_critic=2, grad_clip=grad_clip), _loader(4))
        assert spy.order == "ddgddg"
        return [s["grad_norm"] for s in spy.steps]

    unclipped = run(None)
    assert min(unclipped) > 1e-2  # so the bound below is not vacuous
    clipped = run(1e-3)
    assert all(n <= 1e-3 * (1 + 1e-4) for n in clipped)
    assert all(n > 0.9e-3 for n in clipped)  # clipped to the bound, not zeroed


def test_grad_clip_refuses_16_mixed_precision():
    model = _dcgan(grad_clip=1.0)
    model.trainer = SimpleNamespace(precision="16-mixed")
    # a SettingError: one line and exit 2 from the CLI (a plain ValueError here was a traceback, exit 1)
    with pytest.raises(SettingError, match="grad_clip with precision 16-mixed.*bf16-mixed"):
        model.on_fit_start()
    for ok in ("bf16-mixed", "32-true"):
        model.trainer = SimpleNamespace(precision=ok)
        model.on_fit_start()
    unclipped = _dcgan()
    unclipped.trainer = SimpleNamespace(precision="16-mixed")
    unclipped.on_fit_start()


# ---- checkpoint state --------------------------------------------------------------------------------------
def test_counters_survive_a_checkpoint_round_trip():
    model = _dcgan(n_critic=2)
    model.batches_seen, model.iterations = 7, 3
    checkpoint: dict = {}
    model.on_save_checkpoint(checkpoint)
    state = checkpoint["lit_gan"]
    assert state["model_class"] == "lit_gan.models.gan.DCGAN"
    assert (state["batches_seen"], state["iterations"]) == (7, 3)
    fresh = _dcgan(n_critic=2)
    fresh.on_load_checkpoint(checkpoint)
    assert (fresh.batches_seen, fresh.iterations) == (7, 3)
