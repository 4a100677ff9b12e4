"""Class-conditional models: one-step tests, AC-GAN's class loss in closed form, losses and refusals,
the sampling protocol, checkpoints, and batches without labels."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lit_gan.errors import SettingError
from lit_gan.losses import OBJECTIVES
from lit_gan.models import ACGAN, CGAN, ConditionalDCGAN, ConditionalGAN, ProjectionGAN
from tests.models.test_gan import StepSpy, _changed, _params, _trainer

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*no `val_dataloader`"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]

K = 4
TINY = {"generator_options": {"features": 8}, "discriminator_options": {"features": 8}}


def _model(cls=ConditionalDCGAN, **kw):
    """Each model at toy width on 28x28 (CGAN on 4x4)."""
    if cls is CGAN:
        kw = {"data_shape": (1, 4, 4), "latent_dim": 8, "generator_options": {"z_hidden": 8, "y_hidden": 8, "hidden": 16},
              "discriminator_options": {"x_units": 8, "y_units": 4, "joint_units": 8}, **kw}
    else:
        kw = {"data_shape": (1, 28, 28), "latent_dim": 8, **TINY, **kw}
    return cls(num_classes=K, **kw)


def _loader(n_batches: int, shape=(1, 28, 28), batch_size: int = 4, labels: bool = True) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n_batches * batch_size, *shape, generator=g) * 2 - 1
    y = torch.arange(len(x)) % K  # every class in every batch of 4
    return DataLoader(TensorDataset(x, y) if labels else TensorDataset(x), batch_size=batch_size)


def _shape(model) -> tuple[int, ...]:
    return tuple(model.data_shape)


MODELS = [CGAN, ConditionalDCGAN, ACGAN, ProjectionGAN]


# ---- one step: only the intended parameters change ------------------------------------------
@pytest.mark.parametrize("cls", MODELS)
def test_discriminator_step_changes_only_the_discriminator(cls):
    torch.manual_seed(0)
    model = _model(cls, n_critic=2)
    g0, d0 = _params(model.generator), _params(model.discriminator)
    _trainer(limit_train_batches=1).fit(model, _loader(1, _shape(model)))
    assert (model.batches_seen, model.iterations) == (1, 0)
    assert _changed(g0, model.generator) == set()
    changed = _changed(d0, model.discriminator)
    if cls is CGAN:  # SGD on maxout: pieces that never win get no gradient
        assert changed
    else:
        assert changed == set(d0)  # Adam moves every D parameter (every class is in the batch)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("cls", MODELS)
def test_full_iteration_changes_both_nets_and_restores_requires_grad(cls):
    torch.manual_seed(0)
    model = _model(cls, n_critic=2)
    g0, d0 = _params(model.generator), _params(model.discriminator)
    spy = StepSpy()
    _trainer(limit_train_batches=2, callbacks=[spy]).fit(model, _loader(2, _shape(model)))
    assert spy.order == "ddg"
    for step in spy.steps:  # the other net was frozen during each update
        own, other = (step["d_requires_grad"], step["g_requires_grad"]) if step["net"] == "d" else \
            (step["g_requires_grad"], step["d_requires_grad"])
        assert all(own) and not any(other)
    assert _changed(g0, model.generator)
    if cls is not CGAN:
        assert _changed(g0, model.generator) == set(g0)  # embeddings / conditional BN rows included
    assert _changed(d0, model.discriminator)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("cls", MODELS)
def test_generator_update_leaves_the_discriminator_alone(cls):
    torch.manual_seed(0)
    model = _model(cls, n_critic=1)
    _trainer(limit_train_batches=1).fit(model, _loader(1, _shape(model)))
    opt_g, _ = model.optimizers()
    d0 = _params(model.discriminator)
    model._update(opt_g, model.generator_loss, next(iter(_loader(1, _shape(model)))))
    assert _changed(d0, model.discriminator) == set()
    assert all(p.requires_grad for p in model.parameters())


def test_one_step_on_the_mnist_datamodule(tiny_mnist):
    from lit_gan.data import MNISTDataModule

    dm = MNISTDataModule(root=str(tiny_mnist), batch_size=8, val_size=16)
    model = ConditionalDCGAN(num_classes=dm.num_classes, data_shape=dm.data_shape, latent_dim=8, **TINY)
    trainer = _trainer(limit_train_batches=2, limit_val_batches=1)
    trainer.fit(model, datamodule=dm)
    assert model.iterations == 2
    assert {"train/loss_d", "train/loss_g", "val/loss_d", "val/d_real"} <= set(trainer.callback_metrics)


# ---- AC-GAN's class loss in closed form -------------------------------------------------------
class _LabelImage(nn.Module):
    """A stub G: the image is filled with its label, so D can read the class back."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, z, y):
        return self.w * y.float()[:, None, None, None].expand(-1, 1, 28, 28)


class _Reader(nn.Module):
    """A stub AC-GAN D: source logit s, class logits a * one_hot(the label written in the image)."""

    def __init__(self, s: float, a: float) -> None:
        super().__init__()
        self.s, self.a = s, a
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, x):
        c = x[:, 0, 0, 0].round().long()
        return self.w * torch.full((len(x),), self.s), self.w * self.a * nn.functional.one_hot(c, K).float()


@pytest.mark.parametrize("weight", [1.0, 0.25])
def test_acgan_class_loss_closed_form(weight):
    s, a = 0.7, 2.0
    model = _model(ACGAN, class_loss_weight=weight)
    model.generator, model.discriminator = _LabelImage(), _Reader(s, a)
    labels = torch.tensor([0, 3, 1, 1])
    real = labels.float()[:, None, None, None].expand(-1, 1, 28, 28)
    ce = math.log(1 + (K - 1) * math.exp(-a))  # -log softmax of the right class with margin a
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    loss_d, logs = model.discriminator_loss((real, labels))
    assert logs["train/loss_class_real"].item() == pytest.approx(ce, rel=1e-6)
    assert logs["train/loss_class_fake"].item() == pytest.approx(ce, rel=1e-6)
    # non_saturating D: softplus(-s) on real + softplus(s) on fake; L_C on real and fake
    assert loss_d.item() == pytest.approx(softplus(-s) + softplus(s) + weight * 2 * ce, rel=1e-6)
    loss_g, _ = model.generator_loss((real, labels))
    assert loss_g.item() == pytest.approx(softplus(-s) + weight * ce, rel=1e-6)


def test_acgan_logs_class_losses_and_validation_accuracy():
    torch.manual_seed(0)
    model = _model(ACGAN)
    trainer = _trainer(limit_train_batches=2, limit_val_batches=1)
    trainer.fit(model, _loader(2), _loader(1))
    m = trainer.callback_metrics
    assert {"train/loss_class_real", "train/loss_class_fake", "train/loss_d", "train/loss_g"} <= set(m)
    assert 0.0 <= m["val/class_accuracy_real"].item() <= 1.0
    assert m["train/loss_class_real"].item() > 0


# ---- losses and refusals --------------------------------------------------------------------
@pytest.mark.parametrize("loss", sorted(OBJECTIVES))
@pytest.mark.parametrize("cls", [ConditionalDCGAN, ACGAN, ProjectionGAN])
def test_every_loss_builds_and_steps(cls, loss):
    torch.manual_seed(0)
    kw = {"loss": loss, "n_critic": 1}
    if loss == "wasserstein":
        kw.update(gp_weight=10.0, discriminator_options={"features": 8, "norm": "layer"})
    model = _model(cls, **kw)
    trainer = _trainer(limit_train_batches=1)
    trainer.fit(model, _loader(1))
    assert model.iterations == 1
    assert math.isfinite(trainer.callback_metrics["train/loss_d"].item())
    assert math.isfinite(trainer.callback_metrics["train/loss_g"].item())
    if loss == "wasserstein":
        assert trainer.callback_metrics["train/gradient_penalty"].item() >= 0


@pytest.mark.parametrize("kw, words", [
    ({"loss": "wasserstein"}, "needs a Lipschitz critic.*gp_weight: 10"),
    ({"gp_weight": 10.0}, "gradient penalty needs a critic without BatchNorm.*norm to 'layer'"),
    ({"loss": "hinge", "label_smoothing": 0.1}, "label_smoothing=0.1 does not apply to the 'hinge' loss"),
    ({"gp_weight": -1.0}, "gp_weight must be >= 0"),
    ({"discriminator": "acgan"}, "takes discriminator one of.*use lit_gan.models.ACGAN"),
    ({"generator": "resnet"}, "Unknown conditional generator 'resnet'"),
    ({"discriminator_options": {"features": 8, "width": 2}}, "Bad discriminator_options"),
])
def test_refused_combinations_say_why(kw, words):
    with pytest.raises(ValueError, match=words):
        _model(ConditionalDCGAN, **kw)


@pytest.mark.parametrize("num_classes", [None, 1, 2.5, True])
def test_num_classes_is_required_and_checked(num_classes):
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        ConditionalDCGAN(num_classes=num_classes)
    with pytest.raises(TypeError):
        ConditionalDCGAN()  # required


def test_acgan_refuses_a_discriminator_without_class_head_and_a_negative_weight():
    with pytest.raises(ValueError, match="ACGAN takes discriminator one of \\('acgan',\\)"):
        _model(ACGAN, discriminator="dcgan")
    with pytest.raises(ValueError, match="class_loss_weight must be >= 0"):
        _model(ACGAN, class_loss_weight=-1.0)


def test_gradient_penalty_refuses_float16_precision():
    model = _model(ProjectionGAN, gp_weight=10.0)
    model.trainer = SimpleNamespace(precision="16-mixed")
    # a SettingError: one line and exit 2 from the CLI (a plain ValueError here was a traceback, exit 1)
    with pytest.raises(SettingError, match="precision 16-mixed.*bf16-mixed"):
        model.on_fit_start()


# ---- sampling protocol ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", MODELS)
def test_generate_needs_labels_in_range(cls):
    model = _model(cls)
    z = model.noise(3)
    with pytest.raises(ValueError, match=f"{cls.__name__} is conditional: pass labels"):
        model.generate(z)
    with pytest.raises(ValueError, match=rf"labels must be in \[0, {K}\).*got {K}"):
        model.generate(z, torch.tensor([0, K, 1]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\).*got -1"):
        model.generate(z, torch.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        model.generate(z, torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        model.generate(z, torch.tensor([0, 1]))
    x = model.generate(z, torch.tensor([0, 1, 3], dtype=torch.int32))
    assert x.shape == (3, *_shape(model)) and not x.requires_grad


@pytest.mark.parametrize("cls", MODELS)
def test_same_z_and_labels_give_the_same_output_and_labels_matter(cls):
    torch.manual_seed(0)
    model = _model(cls)
    if cls is ProjectionGAN:  # conditional BN starts equal for every class: give each its own
        for m in model.generator.modules():
            if hasattr(m, "gamma"):
                nn.init.normal_(m.gamma.weight, 1.0, 0.5)
    assert model.generator.training
    z = model.noise(K, torch.Generator().manual_seed(1))
    labels = torch.arange(K)
    x = model.generate(z, labels)
    assert model.generator.training  # mode restored
    torch.testing.assert_close(model.generate(z, labels), x)
    torch.testing.assert_close(model.generate(z[:1], labels[:1]), x[:1])  # eval: independent of the batch
    assert not torch.allclose(model.generate(z[:1].expand(2, -1), torch.tensor([0, 1]))[1], x[0])


@pytest.mark.parametrize("cls", MODELS)
def test_generate_takes_class_weights_one_hot_equal_to_the_class(cls):
    torch.manual_seed(0)
    model = _model(cls)
    for m in model.generator.modules():  # conditional BN starts equal for every class: give each its own
        if hasattr(m, "gamma"):
            nn.init.normal_(m.gamma.weight, 1.0, 0.5)
    z = model.noise(1, torch.Generator().manual_seed(1)).expand(3, -1)
    labels = torch.tensor([0, 1, 3])
    x = model.generate(z, labels)
    assert torch.equal(model.generate(z, nn.functional.one_hot(labels, K).float()), x)
    mix = model.generate(z[:1], torch.tensor([[0.5, 0.5, 0.0, 0.0]]))[0]
    assert not torch.allclose(mix, x[0], atol=1e-4) and not torch.allclose(mix, x[1], atol=1e-4)


@pytest.mark.parametrize("weights, words", [
    (torch.full((3, K + 1), 1 / (K + 1)),
     rf"integer class indices of shape \(3,\) or float class weights of shape \(3, {K}\)"),
    (torch.full((2, K), 1 / K), r"shape \(3, 4\).*got.*shape \(2, 4\)"),
    (torch.tensor([[1.0, 0, 0, 0], [0.6, 0.6, 0, 0], [0, 0, 0, 1.0]]), r"summing to 1; row 1"),
    (torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 1.0], [1.5, -0.5, 0, 0]]), r">= 0.*row 2"),
    (torch.tensor([[1.0, 0, 0, 0], [float("nan"), 1.0, 0, 0], [0, 0, 0, 1.0]]), r"row 1"),
])
def test_generate_refuses_bad_class_weights(weights, words):
    model = _model(ConditionalDCGAN)
    with pytest.raises(ValueError, match=words):
        model.generate(model.noise(3), weights)


def test_sample_cycles_labels_by_default_and_is_seeded():
    model = _model(ConditionalDCGAN)
    n = 2 * K + 1
    x = model.sample(n, torch.Generator().manual_seed(3))
    z = model.noise(n, torch.Generator().manual_seed(3))
    torch.testing.assert_close(x, model.generate(z, torch.arange(n) % K))
    labels = torch.full((n,), 2)
    torch.testing.assert_close(model.sample(n, torch.Generator().manual_seed(3), labels=labels), model.generate(z, labels))
    assert model.sample_group is None


def test_batch_stats_sampling_groups_labels_with_their_rows():
    torch.manual_seed(0)
    model = _model(ProjectionGAN, sample_mode="batch_stats", sample_batch_size=2)
    z, labels = model.noise(5), torch.tensor([0, 1, 2, 3, 0])
    x = model.generate(z, labels)
    torch.testing.assert_close(x[2:4], model.generate(z[2:4], labels[2:4]))
    assert model.sample_group == 2


# ---- checkpoints ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", MODELS)
def test_save_and_load_round_trip(cls, tmp_path):
    torch.manual_seed(0)
    model = _model(cls, n_critic=1)
    trainer = _trainer(limit_train_batches=1)
    trainer.fit(model, _loader(1, _shape(model)))
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    loaded = cls.load_from_checkpoint(path)
    assert type(loaded) is cls
    assert loaded.hparams.num_classes == loaded.num_classes == K
    assert loaded.hparams == model.hparams
    z, labels = model.noise(3, torch.Generator().manual_seed(0)), torch.tensor([2, 0, 1])
    torch.testing.assert_close(loaded.generate(z, labels), model.generate(z, labels))


# ---- batches without labels --------------------------------------------------------------------------
def test_a_batch_without_labels_raises_a_one_line_error():
    model = _model(ConditionalDCGAN)
    words = r"ConditionalDCGAN is class-conditional but the datamodule yields no labels.*MNISTDataModule"
    for batch in (torch.rand(4, 1, 28, 28), [torch.rand(4, 1, 28, 28)], (torch.rand(4, 1, 28, 28), torch.rand(4))):
        with pytest.raises(ValueError, match=words) as err:
            model.discriminator_loss(batch)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=words):
        _trainer(limit_train_batches=1).fit(model, _loader(1, labels=False))


def test_labels_outside_num_classes_in_the_data_raise_on_the_first_batch():
    model = _model(ConditionalDCGAN)
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, K, 2])
    with pytest.raises(ValueError, match=rf"labels must be in \[0, {K}\)"):
        model.discriminator_loss((x, y))


def test_conditional_gan_is_the_base_of_every_model():
    assert all(issubclass(cls, ConditionalGAN) for cls in MODELS)
    model = _model(CGAN)
    assert model.hparams.lr_decay == 1.00004 and model.hparams.optimizer == "sgd"


def test_int32_labels_in_the_batch_are_accepted():
    model = _model(ConditionalDCGAN)
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 3, 2], dtype=torch.int32)
    loss, _ = model.discriminator_loss((x, y))
    assert math.isfinite(loss.item())
