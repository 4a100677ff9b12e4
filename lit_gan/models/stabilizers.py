"""The stabilizers every adversarial model takes as options (declared once, in
lit_gan.models.adversarial.AdversarialModel): spectral norm on D, R1 on D's real inputs,
DiffAugment on every D input, an EMA of G. The building blocks live in lit_gan.training,
lit_gan.losses and lit_gan.augment; here is how a model wires them.

A model names its nets (``generator_attributes`` / ``discriminator_attributes``); everything below works
on those names, so CycleGAN's two pairs get one average and one augmentation each.

DiffAugment runs as a forward pre-hook on each D, active while D is in training mode: every
D call of the D and G steps (and of a penalty's critic) sees augmented images, validation
(eval mode) sees them as they are. The hook asks the model for the transform
(``augment_discriminator_input``) so pix2pix can augment its (condition, image) pair with
shared draws.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_gan.augment.diffaugment import DiffAugment, parse_policy
from lit_gan.errors import SettingError
from lit_gan.training.ema import GeneratorEMA, check_ema_settings
from lit_gan.training.spectral_norm import spectral_normalize

EMA_SUFFIX = "_ema"  # G "generator" is averaged in the submodule "generator_ema" (state-dict prefix "generator_ema.")


def diffaugment_for(policy: str | None) -> DiffAugment | None:
    """The augmentation of ``policy`` (refused in one line when unknown); None when there is none."""
    if policy is None or not parse_policy(policy):
        return None
    return DiffAugment(policy)


def check_ema_option(half_life_images: float | None, rampup: float | None) -> None:
    if half_life_images is not None:
        check_ema_settings(half_life_images, rampup)


def normalize_discriminator(net: nn.Module, name: str) -> None:
    """Spectral norm on one D, its BatchNorm refusal naming the option to change."""
    try:
        spectral_normalize(net, name)
    except SettingError as error:
        message = str(error).replace("set its norm to 'none' (or 'layer')",
                                     "set model.init_args.discriminator_options.norm to 'none' (or 'layer')")
        raise SettingError(message) from None


def attach_averages(model: nn.Module, names: tuple[str, ...], half_life_images: float, rampup: float | None) -> None:
    """One GeneratorEMA per G, a submodule ``<name>_ema`` (so it is in the checkpoint)."""
    for name in names:
        setattr(model, name + EMA_SUFFIX, GeneratorEMA(getattr(model, name), half_life_images, rampup))


def batch_size_of(batch: Any) -> int:
    """Images in one batch: the first tensor's length (``(x, y)``, ``(target, input, name)``, ``{"A", "B"}``)."""
    if isinstance(batch, Tensor):
        return len(batch)
    items = batch.values() if isinstance(batch, dict) else batch
    return next(len(item) for item in items if isinstance(item, Tensor))
