"""LightningModules. ``adversarial`` holds the shared step; the rest say their losses."""

from lit_gan.models.adversarial import AdversarialModel
from lit_gan.models.noise_gan import NoiseGAN
from lit_gan.models.gan import DCGAN, GAN
from lit_gan.models.cyclegan import CycleGAN
from lit_gan.models.pix2pix import Pix2Pix
from lit_gan.models.wgan import WGAN, WGANGP
from lit_gan.models.conditional import CGAN, ConditionalDCGAN, ConditionalGAN
from lit_gan.models.projection_gan import ProjectionGAN
from lit_gan.models.acgan import ACGAN

__all__ = ["AdversarialModel", "NoiseGAN", "GAN", "DCGAN", "WGAN", "WGANGP", "Pix2Pix", "CycleGAN",
           "ConditionalGAN", "CGAN", "ConditionalDCGAN", "ACGAN", "ProjectionGAN"]
