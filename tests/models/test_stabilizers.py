"""The stabilizer options of every model (lit_gan.models.stabilizers, declared in
AdversarialModel): spectral norm on D, R1 in D's loss, DiffAugment on every D input, an EMA of G
used for sampling."""

from __future__ import annotations

import pytest
import torch

from lit_gan.errors import SettingError
from lit_gan.losses.gradient_penalty import r1_penalty
from lit_gan.models import DCGAN, WGAN, WGANGP, ConditionalDCGAN
from lit_gan.models.cyclegan import CycleGAN
from lit_gan.models.pix2pix import Pix2Pix
from lit_gan.training.ema import GeneratorEMA
from lit_gan.training.spectral_norm import is_spectrally_normalised

NO_NORM = {"features": 8, "norm": "none"}


def dcgan(**kw) -> DCGAN:
    return DCGAN(data_shape=(1, 32, 32), latent_dim=8, generator_options={"features": 8},
                 discriminator_options=NO_NORM, **kw)


def pix2pix(**kw) -> Pix2Pix:
    return Pix2Pix(data_shape=(3, 32, 32), input_channels=1, direction="AtoB", generator_options={"features": 8},
                   discriminator_options={"features": 8, "n_layers": 1, "norm": "none"}, **kw)


def cyclegan(**kw) -> CycleGAN:
    return CycleGAN(data_shape=(3, 32, 32), generator_options={"features": 8, "n_blocks": 2},
                    discriminator_options={"features": 8, "n_layers": 1}, **kw)


def images(n: int = 4, channels: int = 1, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def convs(net: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


# ---- spectral norm ---------------------------------------------------------------------

@pytest.mark.parametrize("build, ds, gs", [
    (lambda: dcgan(spectral_norm=True), ("discriminator",), ("generator",)),
    (lambda: WGANGP(data_shape=(1, 32, 32), spectral_norm=True), ("discriminator",), ("generator",)),
    (lambda: pix2pix(spectral_norm=True), ("discriminator",), ("generator",)),
    (lambda: cyclegan(spectral_norm=True), ("D_A", "D_B"), ("G_AB",)),
])
def test_spectral_norm_parametrizes_every_d_layer_and_no_g_layer(build, ds, gs):
    model = build()
    for name in ds:
        assert convs(getattr(model, name)) and all(is_spectrally_normalised(m) for m in convs(getattr(model, name)))
    for name in gs:
        assert not any(is_spectrally_normalised(m) for m in convs(getattr(model, name)))


def test_spectral_norm_off_by_default():
    assert not any(is_spectrally_normalised(m) for m in convs(dcgan().discriminator))


def test_spectral_norm_on_a_batchnorm_d_says_which_option_to_change():
    with pytest.raises(SettingError, match=r"discriminator_options.norm to 'none'") as error:
        DCGAN(data_shape=(1, 32, 32), spectral_norm=True)  # DCGAN's D has BatchNorm
    assert "\n" not in str(error.value)


def test_spectral_norm_checkpoint_round_trip(tmp_path):
    model = dcgan(spectral_norm=True)
    torch.save(model.state_dict(), tmp_path / "sd.pt")
    again = dcgan(spectral_norm=True)
    again.load_state_dict(torch.load(tmp_path / "sd.pt"))  # the parametrised keys match
    with pytest.raises(RuntimeError):
        dcgan().load_state_dict(torch.load(tmp_path / "sd.pt"))


# ---- R1 ---------------------------------------------------------------------------------

def test_r1_is_added_to_d_loss_on_its_steps_only():
    model = dcgan(r1_gamma=2.0, r1_interval=4)
    real = images()
    for seen, applied in ((0, True), (1, False), (3, False), (4, True)):
        model.batches_seen = seen
        torch.manual_seed(3)
        loss, logs = model._discriminator_objective((real, torch.zeros(4)))
        torch.manual_seed(3)
        base, _ = model.discriminator_loss((real, torch.zeros(4)))
        if applied:
            expected = r1_penalty(model.discriminator, real, 2.0, 4)
            torch.testing.assert_close(logs["train/r1_penalty"], expected)
            torch.testing.assert_close(loss, base + expected)
            assert expected > 0
        else:
            assert "train/r1_penalty" not in logs
            torch.testing.assert_close(loss, base)


def test_r1_closed_form_on_a_linear_critic():
    """D(x) = <w, x>: grad_x D = w, so R1 = interval * gamma / 2 * ||w||^2."""
    model = dcgan(r1_gamma=3.0, r1_interval=2)
    w = torch.randn(1 * 32 * 32)
    model.r1_terms = lambda batch: [(lambda x: x.flatten(1) @ w, batch[0], 1)]
    model.discriminator_loss = lambda batch: (torch.zeros(()), {})
    loss, logs = model._discriminator_objective((images(), None))
    torch.testing.assert_close(loss, torch.tensor(2 * 3.0 / 2 * float(w @ w)))


def test_r1_reaches_every_family():
    for model, batch in ((ConditionalDCGAN(num_classes=3, data_shape=(1, 32, 32), generator_options={"features": 8},
                                           discriminator_options=NO_NORM, r1_gamma=1.0),
                          (images(), torch.tensor([0, 1, 2, 0]))),
                         (pix2pix(r1_gamma=1.0), (images(2, 3), images(2, 1), ["a", "b"])),
                         (cyclegan(r1_gamma=1.0), (images(2, 3), images(2, 3, seed=1)))):
        model.batches_seen = 0
        _, logs = model._discriminator_objective(batch)
        assert logs["train/r1_penalty"] > 0, type(model).__name__
        assert model.double_backward_nets() == model.discriminator_attributes()


def test_r1_with_weight_clipping_is_refused_in_one_line():
    with pytest.raises(SettingError, match="clip_value") as error:
        WGAN(data_shape=(1, 32, 32), r1_gamma=10.0, discriminator_options=NO_NORM)
    assert "\n" not in str(error.value)
    WGAN(data_shape=(1, 32, 32), clip_value=None, r1_gamma=10.0, discriminator_options=NO_NORM)  # R1 instead


def test_r1_on_a_batchnorm_critic_is_refused():
    with pytest.raises(ValueError, match="BatchNorm"):
        DCGAN(data_shape=(1, 32, 32), r1_gamma=1.0)


@pytest.mark.parametrize("gamma, interval", [(-1.0, 1), (1.0, 0)])
def test_bad_r1_settings_are_refused(gamma, interval):
    with pytest.raises(SettingError):
        dcgan(r1_gamma=gamma, r1_interval=interval)


# ---- DiffAugment -------------------------------------------------------------------------

class Spy:
    """Records what the augmentation is given; returns it shifted so a D input that skipped it shows."""

    def __init__(self):
        self.calls: list[tuple[torch.Tensor, ...]] = []

    def __call__(self, *xs):
        self.calls.append(tuple(x.detach().clone() for x in xs))
        out = tuple(x + 100.0 for x in xs)
        return out[0] if len(out) == 1 else out


def test_augmentation_sees_real_and_fake_in_d_step_and_fake_in_g_step():
    model = dcgan(augment="color")
    model.augmentation = spy = Spy()
    real = images()
    model.discriminator_loss((real, torch.zeros(4)))
    assert len(spy.calls) == 2
    assert torch.equal(spy.calls[0][0], real)  # the real batch, then the fakes
    assert not torch.equal(spy.calls[1][0], real)
    model.generator_loss((real, torch.zeros(4)))
    assert len(spy.calls) == 3
    model.eval()
    model.discriminator(real)  # validation sees the images as they are
    assert len(spy.calls) == 3


def test_augmentation_changes_d_input_and_gradient_flows_to_g():
    model = dcgan(augment="translation,cutout")
    plain = dcgan()
    plain.load_state_dict(model.state_dict())
    real = images()
    torch.manual_seed(0)
    assert not torch.allclose(model.discriminator(real), plain.discriminator(real))
    loss, _ = model.generator_loss((real, None))
    loss.backward()
    assert all(p.grad is not None for p in model.generator.parameters())


def test_conditional_models_augment_the_images_only():
    model = ConditionalDCGAN(num_classes=3, data_shape=(1, 32, 32), generator_options={"features": 8},
                             discriminator_options=NO_NORM, augment="color")
    model.augmentation = spy = Spy()
    model.discriminator_loss((images(), torch.tensor([0, 1, 2, 0])))
    assert len(spy.calls) == 2 and all(len(call) == 1 for call in spy.calls)


def test_pix2pix_augments_condition_and_image_together():
    model = pix2pix(augment="color")
    model.augmentation = spy = Spy()
    target, source = images(2, 3), images(2, 1)
    model.discriminator_loss((target, source, ["a", "b"]))
    assert len(spy.calls) == 2
    condition, image = spy.calls[0]
    assert torch.equal(condition, source) and torch.equal(image, target)


def test_pix2pix_pair_shares_the_draws():
    model = pix2pix(augment="translation")
    x = images(2, 4)
    torch.manual_seed(0)
    out = model.augment_discriminator_input(x)
    torch.manual_seed(0)
    together = model.augmentation(x)  # one 4-channel image: the same shifts as the pair
    torch.testing.assert_close(out, together)


def test_cyclegan_augments_each_domain():
    model = cyclegan(augment="color")
    model.augmentation = spy = Spy()
    a, b = images(2, 3), images(2, 3, seed=1)
    model.discriminator_loss((a, b))
    assert len(spy.calls) == 4
    assert any(torch.equal(call[0], a) for call in spy.calls) and any(torch.equal(call[0], b) for call in spy.calls)


def test_unknown_policy_is_refused_in_one_line():
    with pytest.raises(SettingError, match="unknown DiffAugment policy") as error:
        dcgan(augment="color,rotate")
    assert "\n" not in str(error.value)


# ---- EMA -----------------------------------------------------------------------------------

def test_ema_is_a_submodule_and_sampling_uses_it():
    model = dcgan(ema_half_life_images=8.0, ema_rampup=None)
    assert isinstance(model.generator_ema, GeneratorEMA)
    assert any(key.startswith("generator_ema.module.") for key in model.state_dict())
    with torch.no_grad():
        for p in model.generator.parameters():
            p.add_(0.1)
    model._update_averages((images(), None))  # 4 images, half-life 8: beta = 0.5 ** 0.5
    z = model.noise(3, torch.Generator().manual_seed(1))
    averaged, raw = model.generate(z), None
    model.use_ema = False
    raw = model.generate(z)
    assert not torch.allclose(averaged, raw)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(raw, model.generator(z))
        torch.testing.assert_close(averaged, model.generator_ema.module(z))


def test_no_ema_by_default():
    model = dcgan()
    assert model.averaged("generator") is None and not model.has_ema()


def test_cyclegan_averages_each_generator_and_translates_with_them():
    model = cyclegan(ema_half_life_images=10.0)
    assert isinstance(model.G_AB_ema, GeneratorEMA) and isinstance(model.G_BA_ema, GeneratorEMA)
    assert model.for_sampling(model.G_BA) is model.G_BA_ema.module
    with torch.no_grad():
        for p in model.G_AB.parameters():
            p.add_(0.1)
    x = images(1, 3)
    model.use_ema = False
    raw = model.translate(x, "AtoB")
    model.use_ema = True
    assert not torch.allclose(model.translate(x, "AtoB"), raw)  # the average has not moved yet


def test_non_positive_half_life_is_refused():
    with pytest.raises(SettingError, match="half-life"):
        dcgan(ema_half_life_images=0.0)


# ---- every model takes every option --------------------------------------------------------

ALL_ON = {"spectral_norm": True, "r1_gamma": 1.0, "augment": "color,translation,cutout", "ema_half_life_images": 100.0}
LABELS = torch.tensor([0, 1, 2, 0])
SMALL = {"data_shape": (1, 32, 32), "generator_options": {"features": 8}}
EVERY_MODEL = {
    "GAN": ({"data_shape": (1, 28, 28)}, lambda: (images(4)[:, :, :28, :28], LABELS)),
    "DCGAN": ({**SMALL, "discriminator_options": NO_NORM}, lambda: (images(4), LABELS)),
    "WGAN": ({**SMALL, "discriminator_options": NO_NORM, "clip_value": None}, lambda: (images(4), LABELS)),
    "WGANGP": ({**SMALL, "discriminator_options": NO_NORM}, lambda: (images(4), LABELS)),
    "CGAN": ({"num_classes": 3, "data_shape": (1, 28, 28)}, lambda: (images(4)[:, :, :28, :28], LABELS)),
    "ConditionalDCGAN": ({"num_classes": 3, **SMALL, "discriminator_options": NO_NORM}, lambda: (images(4), LABELS)),
    "ACGAN": ({"num_classes": 3, **SMALL, "discriminator_options": NO_NORM}, lambda: (images(4), LABELS)),
    "ProjectionGAN": ({"num_classes": 3, **SMALL, "discriminator_options": {"features": 8}},
                      lambda: (images(4), LABELS)),
    "Pix2Pix": ({"data_shape": (3, 32, 32), "input_channels": 1, "generator_options": {"features": 8},
                 "discriminator_options": {"features": 8, "n_layers": 1, "norm": "none"}},
                lambda: (images(2, 3), images(2, 1), ["a", "b"])),
    "CycleGAN": ({"data_shape": (3, 32, 32), "generator_options": {"features": 8, "n_blocks": 1},
                  "discriminator_options": {"features": 8, "n_layers": 1}}, lambda: (images(2, 3), images(2, 3, 1))),
}


@pytest.mark.parametrize("name", sorted(EVERY_MODEL))
def test_every_model_takes_every_stabilizer(name):
    import lit_gan.models as models

    options, batch = EVERY_MODEL[name]
    model = getattr(models, name)(**options, **ALL_ON)
    for attribute in model.discriminator_attributes():
        assert all(is_spectrally_normalised(m) for m in convs(getattr(model, attribute)))
    assert all(isinstance(model.averaged(g), GeneratorEMA) for g in model.generator_attributes())
    model.batches_seen = 0
    loss, logs = model._discriminator_objective(batch())
    assert torch.isfinite(loss) and logs["train/r1_penalty"] > 0
    loss.backward()
    g_loss, _ = model.generator_loss(batch())
    assert torch.isfinite(g_loss)
