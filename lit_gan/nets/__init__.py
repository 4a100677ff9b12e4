"""Pure ``nn.Module`` nets, one architecture family per file, built by name.

Models call :func:`build_generator` / :func:`build_discriminator` with plain
hyperparameters so checkpoints hold only numbers and strings, never pickled modules.
"""

from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from lit_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from lit_gan.nets.mlp import MaxoutDiscriminator, MLPDiscriminator, MLPGenerator

GENERATORS = ("mlp", "dcgan")
DISCRIMINATORS = ("mlp", "maxout", "dcgan")


def _check_image(shape: Sequence[int], arch: str) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"The {arch!r} nets need square images (C, H, H); the data has shape {tuple(shape)}")
    return shape[0], shape[1]


def _build(arch: str, kind: str, options: dict[str, Any], make) -> nn.Module:
    try:
        return make()
    except TypeError as err:
        raise ValueError(f"Bad {kind}_options {options} for the {arch!r} {kind}: {err}") from None


def build_generator(arch: str, latent_dim: int, data_shape: Sequence[int], options: dict[str, Any]) -> nn.Module:
    if arch == "mlp":
        return _build(arch, "generator", options, lambda: MLPGenerator(latent_dim, data_shape, **options))
    if arch == "dcgan":
        channels, size = _check_image(data_shape, arch)
        return _build(arch, "generator", options, lambda: DCGANGenerator(latent_dim, size, channels, **options))
    raise ValueError(f"Unknown generator {arch!r}; choose one of {GENERATORS}")


def build_discriminator(arch: str, data_shape: Sequence[int], options: dict[str, Any]) -> nn.Module:
    if arch == "mlp":
        return _build(arch, "discriminator", options, lambda: MLPDiscriminator(data_shape, **options))
    if arch == "maxout":
        return _build(arch, "discriminator", options, lambda: MaxoutDiscriminator(data_shape, **options))
    if arch == "dcgan":
        channels, size = _check_image(data_shape, arch)
        return _build(arch, "discriminator", options, lambda: DCGANDiscriminator(size, channels, **options))
    raise ValueError(f"Unknown discriminator {arch!r}; choose one of {DISCRIMINATORS}")
