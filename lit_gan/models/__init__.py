"""LightningModules. ``adversarial`` holds the shared step; the rest say their losses."""

from lit_gan.models.adversarial import AdversarialModel
from lit_gan.models.gan import DCGAN, GAN

__all__ = ["AdversarialModel", "GAN", "DCGAN"]
