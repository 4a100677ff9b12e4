"""Class-conditional nets by name, for lit_gan.models.conditional (as lit_gan.nets does for
unconditional ones): a checkpoint holds only names, numbers and strings.

Generators take ``(z, y)``. Discriminators take ``(x, y)`` and return logits (N,), except
``acgan``, which takes ``x`` and returns ``(logits (N,), class logits (N, K))``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from torch import nn

from lit_gan.nets.conditional_dcgan import ConditionalBNGenerator, ConditionalDCGANDiscriminator, ConditionalDCGANGenerator
from lit_gan.nets.conditional_heads import ACGANDiscriminator, ProjectionDiscriminator
from lit_gan.nets.conditional_mlp import ConditionalMaxoutDiscriminator, ConditionalMLPGenerator
from lit_gan.nets.remedies import apply_remedies, split_remedies

GENERATORS = ("mlp", "dcgan", "dcgan_cbn")
DISCRIMINATORS = ("maxout", "dcgan", "projection")  # D(x, y) -> logits
ACGAN_DISCRIMINATORS = ("acgan",)  # D(x) -> (logits, class logits)


def _image(shape: Sequence[int], arch: str) -> dict[str, int]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"The {arch!r} nets need square images (C, H, H); the data has shape {tuple(shape)}")
    return {"image_size": shape[1], "channels": shape[0]}


def _generator(arch: str, latent_dim: int, k: int, shape: Sequence[int], options: dict[str, Any]) -> nn.Module:
    if arch == "mlp":
        return ConditionalMLPGenerator(latent_dim, k, shape, **options)
    if arch == "dcgan":
        return ConditionalDCGANGenerator(latent_dim, k, **_image(shape, arch), **options)
    if arch == "dcgan_cbn":
        return ConditionalBNGenerator(latent_dim, k, **_image(shape, arch), **options)
    raise ValueError(f"Unknown conditional generator {arch!r}; choose one of {GENERATORS}")


def _discriminator(arch: str, k: int, shape: Sequence[int], options: dict[str, Any]) -> nn.Module:
    if arch == "maxout":
        return ConditionalMaxoutDiscriminator(k, shape, **options)
    classes: dict[str, Callable[..., nn.Module]] = {
        "dcgan": ConditionalDCGANDiscriminator, "projection": ProjectionDiscriminator, "acgan": ACGANDiscriminator}
    if arch in classes:
        return classes[arch](k, **_image(shape, arch), **options)
    raise ValueError(f"Unknown conditional discriminator {arch!r}; choose one of {DISCRIMINATORS + ACGAN_DISCRIMINATORS}")


def _checked(kind: str, arch: str, options: dict[str, Any], make: Callable[[], nn.Module]) -> nn.Module:
    try:
        return make()
    except TypeError as err:
        raise ValueError(f"Bad {kind}_options {options} for the conditional {arch!r} {kind}: {err}") from None


def build_conditional_nets(generator: str, discriminator: str, latent_dim: int, num_classes: int,
                           data_shape: Sequence[int], generator_options: dict[str, Any],
                           discriminator_options: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
    """(G, D) by name; bad options raise a ValueError that names the net and the options.

    Minibatch discrimination / stddev work on the ``maxout`` and ``dcgan`` discriminators
    (before their last layer, after the label has joined); packing is refused: a conditional
    D judges one (sample, label) pair.
    """
    remedies, net_options = split_remedies(discriminator_options)
    if remedies.pack > 1:
        raise ValueError(f"discriminator_options.pack={remedies.pack}: packing (PacGAN) is for unconditional "
                         "discriminators; a conditional D judges one (sample, label) pair. Remove pack, or use "
                         "minibatch_discrimination / minibatch_stddev")
    g = _checked("generator", generator, generator_options,
                 lambda: _generator(generator, latent_dim, num_classes, data_shape, generator_options))
    d = _checked("discriminator", discriminator, discriminator_options,
                 lambda: _discriminator(discriminator, num_classes, data_shape, net_options))
    return g, apply_remedies(d, remedies, discriminator)
