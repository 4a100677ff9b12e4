"""LightningDataModules by data family."""

from lit_gan.data.celeba import CelebADataModule
from lit_gan.data.mnist import MNISTDataModule
from lit_gan.data.paired import PairedImageDataModule
from lit_gan.data.toy import Toy2DDataModule
from lit_gan.data.unpaired import UnpairedImageDataModule

__all__ = ["CelebADataModule", "MNISTDataModule", "PairedImageDataModule", "Toy2DDataModule",
           "UnpairedImageDataModule"]
