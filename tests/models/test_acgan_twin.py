"""AC-GAN's ``classifier`` option: ``ac`` (Odena et al. 2017, unchanged), ``tac`` (twin
classifiers, Gong et al. 2019) and ``adc`` (2K-class discriminative classifier, Hou et al. 2022).

Losses against a numpy computation on fixed logits (both steps, signs included), ``ac``
against the checkpoint an earlier lit_gan wrote and against the old formula, short fits
with a checkpoint round trip, the stabilizers on the new heads, and the refusals."""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lit_gan.data import MNISTDataModule
from lit_gan.models import ACGAN
from lit_gan.nets.conditional_heads import ACGANDiscriminator
from lit_gan.training.ema import GeneratorEMA
from lit_gan.training.spectral_norm import is_spectrally_normalised
from tests.conftest import write_tiny_mnist
from tests.models.test_stabilizers import ALL_ON, NO_NORM, convs, images

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]

K = 3
LEGACY_ACGAN = Path(__file__).resolve().parents[1] / "fixtures" / "legacy" / "acgan" / "last.ckpt"


def _model(**kw) -> ACGAN:
    kw = {"data_shape": (1, 28, 28), "latent_dim": 8, "generator_options": {"features": 8},
          "discriminator_options": {"features": 8}, **kw}
    return ACGAN(num_classes=K, **kw)


# ---- the net --------------------------------------------------------------------------------------
@pytest.mark.parametrize("classifier, outputs", [("ac", K), ("tac", 2 * K), ("adc", 2 * K)])
def test_the_discriminator_heads_and_their_shapes(classifier, outputs):
    torch.manual_seed(0)
    d = ACGANDiscriminator(K, 28, 1, features=8, classifier=classifier).eval()
    x = torch.randn(5, 1, 28, 28)
    source, classes = d(x)
    assert source.shape == (5,) and classes.shape == (5, outputs)
    assert hasattr(d, "twin") == (classifier == "tac")
    h = d.trunk(x)
    torch.testing.assert_close(classes[:, :K], d.classes(h).flatten(1)[:, :K])
    if classifier == "tac":  # [C | C^mi]: the last K are the twin head's own logits
        torch.testing.assert_close(classes[:, K:], d.twin(h).flatten(1))


# ---- losses on fixed logits -----------------------------------------------------------------------
class _LabelImage(nn.Module):
    """A stub G: a fake of class y is the image filled with 10 + y (so D can tell it from a real one)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, z, y):
        return self.w * (10.0 + y.float())[:, None, None, None].expand(-1, 1, 28, 28)


class _TableD(nn.Module):
    """A stub D: source logit s; class logits: row c of ``real`` for an image filled with c,
    row c of ``fake`` for one filled with 10 + c."""

    def __init__(self, s: float, real: torch.Tensor, fake: torch.Tensor) -> None:
        super().__init__()
        self.s, self.real, self.fake = s, real, fake
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, x):
        v = x[:, 0, 0, 0].round().long()
        rows = torch.where((v >= 10)[:, None], self.fake[(v - 10).clamp(min=0)], self.real[v.clamp(max=K - 1)])
        return self.w * torch.full((len(x),), self.s), self.w * rows


def _ce(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy, numpy float64: log sum exp - the label's logit."""
    top = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return float((lse - logits[np.arange(len(labels)), labels]).mean())


def _softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def _fixed(classifier: str, weight: float):
    s, outputs = 0.4, 2 * K  # tac: [C | C^mi], adc: [real classes | fake classes]
    g = torch.Generator().manual_seed(3)
    real_table, fake_table = torch.randn(K, outputs, generator=g) * 2, torch.randn(K, outputs, generator=g) * 2
    model = _model(classifier=classifier, class_loss_weight=weight)
    model.generator, model.discriminator = _LabelImage(), _TableD(s, real_table, fake_table)
    labels, fake_labels = torch.tensor([0, 2, 1, 1]), torch.tensor([2, 2, 0, 1])
    model.random_labels = lambda n: fake_labels[:n]
    real = labels.float()[:, None, None, None].expand(-1, 1, 28, 28)
    return model, s, (real, labels), real_table[labels].numpy().astype(np.float64), labels.numpy(), \
        fake_table[fake_labels].numpy().astype(np.float64), fake_labels.numpy()


@pytest.mark.parametrize("weight", [1.0, 0.3])
def test_tac_losses_equal_a_hand_computation(weight):
    model, s, batch, real_logits, y, fake_logits, y_fake = _fixed("tac", weight)
    c_real, twin_fake, c_fake = real_logits[:, :K], fake_logits[:, K:], fake_logits[:, :K]
    loss_d, logs = model.discriminator_loss(batch)
    # D: C learns the real images, the twin C^mi the fakes
    assert logs["train/loss_class_real"].item() == pytest.approx(_ce(c_real, y), rel=1e-6)
    assert logs["train/loss_class_twin"].item() == pytest.approx(_ce(twin_fake, y_fake), rel=1e-6)
    assert "train/loss_class_fake" not in logs  # C never sees a fake in D's step
    expected_d = _softplus(-s) + _softplus(s) + weight * (_ce(c_real, y) + _ce(twin_fake, y_fake))
    assert loss_d.item() == pytest.approx(expected_d, rel=1e-6)
    # G: C's error down, the twin's up (the minus sign)
    loss_g, g_logs = model.generator_loss(batch)
    term = _ce(c_fake, y_fake) - _ce(twin_fake, y_fake)
    assert g_logs["train/loss_class_g"].item() == pytest.approx(term, rel=1e-6)
    assert loss_g.item() == pytest.approx(_softplus(-s) + weight * term, rel=1e-6)


@pytest.mark.parametrize("weight", [1.0, 0.3])
def test_adc_losses_equal_a_hand_computation(weight):
    model, s, batch, real_logits, y, fake_logits, y_fake = _fixed("adc", weight)
    loss_d, logs = model.discriminator_loss(batch)
    # D: real x -> class y, fake x~ -> class K + y~, on one 2K-way softmax
    assert logs["train/loss_class_real"].item() == pytest.approx(_ce(real_logits, y), rel=1e-6)
    assert logs["train/loss_class_fake_as_fake"].item() == pytest.approx(_ce(fake_logits, y_fake + K), rel=1e-6)
    expected_d = _softplus(-s) + _softplus(s) + weight * (_ce(real_logits, y) + _ce(fake_logits, y_fake + K))
    assert loss_d.item() == pytest.approx(expected_d, rel=1e-6)
    # G: CE(x~ -> y~) - CE(x~ -> K + y~) = log p(fake y~ | x~) - log p(real y~ | x~)
    loss_g, g_logs = model.generator_loss(batch)
    term = _ce(fake_logits, y_fake) - _ce(fake_logits, y_fake + K)
    assert g_logs["train/loss_class_g"].item() == pytest.approx(term, rel=1e-6)
    assert loss_g.item() == pytest.approx(_softplus(-s) + weight * term, rel=1e-6)


@pytest.mark.parametrize("classifier", ["tac", "adc"])
def test_validation_accuracy_reads_the_real_data_classifier(classifier):
    """val/class_accuracy_real: tac's C (not the twin), adc's first K outputs (the real classes)."""
    model, _, batch, real_logits, y, _, _ = _fixed(classifier, 1.0)
    model.sample = lambda n, g, labels: (10.0 + labels.float())[:, None, None, None].expand(-1, 1, 28, 28)
    scores = model.validation_scores(batch, 0)
    expected = float((real_logits[:, :K].argmax(axis=1) == y).mean())
    assert scores["class_accuracy_real"].item() == pytest.approx(expected)


# ---- "ac" is the AC-GAN it was ---------------------------------------------------------------------
def test_ac_has_the_parameters_an_earlier_lit_gan_saved():
    """The legacy checkpoint (written before the option existed) has exactly ac's state-dict keys and shapes."""
    saved = torch.load(LEGACY_ACGAN, map_location="cpu", weights_only=False)
    options = {k: v for k, v in saved["hyper_parameters"].items() if not k.startswith("_")}
    for model in (ACGAN(**options), ACGAN(**options, classifier="ac")):
        assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in saved["state_dict"].items()}
    for classifier, extra in (("tac", {"discriminator.twin.weight", "discriminator.twin.bias"}), ("adc", set())):
        keys = set(ACGAN(**options, classifier=classifier).state_dict())
        assert keys - set(saved["state_dict"]) == extra


def test_ac_losses_are_the_old_formula_on_a_fixed_batch():
    """The losses of ``ac`` recomputed by hand from the nets with the same random draws:
    adv + w (CE real + CE fake) for D, adv_G + w CE fake for G."""
    torch.manual_seed(0)
    model = _model(class_loss_weight=0.7)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    torch.manual_seed(5)
    loss_d, logs = model.discriminator_loss((x, y))
    torch.manual_seed(5)
    fake_labels = torch.randint(K, (6,))
    with torch.no_grad():
        fake = model.generator(torch.randn(6, 8), fake_labels)
    (real_out, real_cls), (fake_out, fake_cls) = model.discriminator(x), model.discriminator(fake)
    expected = (F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
                + 0.7 * (F.cross_entropy(real_cls, y) + F.cross_entropy(fake_cls, fake_labels)))
    torch.testing.assert_close(loss_d, expected, rtol=1e-6, atol=0)
    assert set(logs) == {"train/d_real", "train/d_fake", "train/loss_class_real", "train/loss_class_fake"}
    torch.manual_seed(6)
    loss_g, g_logs = model.generator_loss((x, y))
    torch.manual_seed(6)
    fake_labels = torch.randint(K, (6,))
    fake_out, fake_cls = model.discriminator(model.generator(torch.randn(6, 8), fake_labels))
    torch.testing.assert_close(loss_g, F.softplus(-fake_out).mean() + 0.7 * F.cross_entropy(fake_cls, fake_labels),
                               rtol=1e-6, atol=0)
    assert g_logs == {}


# ---- training, checkpoints --------------------------------------------------------------------------
@pytest.mark.parametrize("classifier", ["ac", "tac", "adc"])
def test_three_iterations_on_tiny_mnist_then_a_checkpoint_round_trip(classifier, tmp_path):
    root = write_tiny_mnist(tmp_path / "mnist", n_train=48, n_test=16)
    L.seed_everything(0, verbose=False)
    dm = MNISTDataModule(root=str(root), batch_size=8, val_size=16)
    model = ACGAN(num_classes=dm.num_classes, data_shape=dm.data_shape, latent_dim=8, classifier=classifier,
                  generator_options={"features": 8}, discriminator_options={"features": 8})
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=model.max_steps_for(3), limit_val_batches=1,
                        val_check_interval=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, log_every_n_steps=1,
                        default_root_dir=tmp_path)
    trainer.fit(model, datamodule=dm)
    assert model.iterations == 3
    m = trainer.callback_metrics
    extra = {"ac": "train/loss_class_fake", "tac": "train/loss_class_twin", "adc": "train/loss_class_fake_as_fake"}
    assert {"train/loss_class_real", extra[classifier], "train/loss_d", "train/loss_g"} <= set(m)
    assert ("train/loss_class_g" in m) == (classifier != "ac")
    assert 0.0 <= m["val/class_accuracy_real"].item() <= 1.0
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    loaded = ACGAN.load_from_checkpoint(path)
    assert loaded.classifier == loaded.hparams.classifier == classifier
    assert loaded.hparams.discriminator_options == {"features": 8}  # the head comes from classifier alone
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)
    z, labels = model.noise(4, torch.Generator().manual_seed(0)), torch.tensor([0, 3, 9, 1])
    torch.testing.assert_close(loaded.generate(z, labels), model.generate(z, labels))


@pytest.mark.parametrize("classifier", ["tac", "adc"])
def test_every_stabilizer_works_with_the_new_heads(classifier):
    model = ACGAN(num_classes=K, data_shape=(1, 32, 32), generator_options={"features": 8},
                  discriminator_options=NO_NORM, classifier=classifier, **ALL_ON)
    d = model.discriminator
    assert all(is_spectrally_normalised(m) for m in convs(d))  # the twin / 2K head too
    assert classifier != "tac" or is_spectrally_normalised(d.twin)
    assert isinstance(model.averaged("generator"), GeneratorEMA)
    batch = (images(4), torch.tensor([0, 1, 2, 0]))
    critic, real, _ = model.r1_terms(batch)[0]
    assert critic(real).shape == (4,)  # R1 on the source logit only, not the class heads
    model.batches_seen = 0
    loss, logs = model._discriminator_objective(batch)
    assert torch.isfinite(loss) and logs["train/r1_penalty"] > 0
    loss.backward()
    head = d.twin if classifier == "tac" else d.classes
    assert head.parametrizations.weight.original.grad.abs().sum() > 0  # the new head learns in D's step
    g_loss, _ = model.generator_loss(batch)
    assert torch.isfinite(g_loss)


# ---- refusals ---------------------------------------------------------------------------------------
def test_an_unknown_classifier_is_refused_in_one_line_naming_the_choices():
    with pytest.raises(ValueError, match=r"classifier must be one of \('ac', 'tac', 'adc'\).*got 'twin'"):
        _model(classifier="twin")


def test_the_head_is_set_by_the_model_not_by_discriminator_options():
    with pytest.raises(ValueError, match="set model.init_args.classifier"):
        _model(discriminator_options={"features": 8, "classifier": "tac"})
