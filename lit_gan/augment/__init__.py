"""Differentiable augmentations of the discriminator's inputs (DiffAugment, Zhao et al. 2020)."""

from lit_gan.augment.diffaugment import POLICIES, DiffAugment, parse_policy

__all__ = ["POLICIES", "DiffAugment", "parse_policy"]
