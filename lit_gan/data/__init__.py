"""LightningDataModules by data family."""

from lit_gan.data.celeba import CelebADataModule
from lit_gan.data.mnist import MNISTDataModule
from lit_gan.data.toy import Toy2DDataModule

__all__ = ["CelebADataModule", "MNISTDataModule", "Toy2DDataModule"]
