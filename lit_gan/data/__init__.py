"""LightningDataModules by data family."""

from lit_gan.data.mnist import MNISTDataModule
from lit_gan.data.toy import Toy2DDataModule

__all__ = ["MNISTDataModule", "Toy2DDataModule"]
