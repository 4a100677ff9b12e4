"""Class-conditional nets by name, for lit_gan.models.conditional (as lit_gan.nets does for
unconditional ones): a checkpoint holds only names, numbers and strings.

Generators take ``(z, y)``. Discriminators take ``(x, y)`` and return logits (N,), except
``acgan``, which takes ``x`` and returns ``(logits (N,), class logits (N, K))`` ((N, 2K) with its
``classifier`` option ``tac`` or ``adc``, set by lit_gan.models.ACGAN).
"""

from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from lit_gan.nets.conditional_dcgan import ConditionalBNGenerator, ConditionalDCGANDiscriminator, ConditionalDCGANGenerator
from lit_gan.nets.conditional_heads import ACGANDiscriminator, ProjectionDiscriminator
from lit_gan.nets.conditional_mlp import ConditionalMaxoutDiscriminator, ConditionalMLPGenerator
from lit_gan.nets.registry import Registry, square_image
from lit_gan.nets.remedies import apply_remedies, split_remedies

# G(z, y): builder(latent_dim, num_classes, data_shape, **options)
GENERATORS = Registry("generator", {
    "mlp": ConditionalMLPGenerator,
    "dcgan": lambda z, k, shape, **o: ConditionalDCGANGenerator(z, k, **square_image(shape, "dcgan"), **o),
    "dcgan_cbn": lambda z, k, shape, **o: ConditionalBNGenerator(z, k, **square_image(shape, "dcgan_cbn"), **o),
}, qualifier="conditional")
# D(x, y) -> logits: builder(num_classes, data_shape, **options)
DISCRIMINATORS = Registry("discriminator", {
    "maxout": ConditionalMaxoutDiscriminator,
    "dcgan": lambda k, shape, **o: ConditionalDCGANDiscriminator(k, **square_image(shape, "dcgan"), **o),
    "projection": lambda k, shape, **o: ProjectionDiscriminator(k, **square_image(shape, "projection"), **o),
}, qualifier="conditional")
# D(x) -> (logits, class logits), AC-GAN's: builder(num_classes, data_shape, **options)
ACGAN_DISCRIMINATORS = Registry("discriminator", {
    "acgan": lambda k, shape, **o: ACGANDiscriminator(k, **square_image(shape, "acgan"), **o),
}, qualifier="conditional")


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
    registry = ACGAN_DISCRIMINATORS if discriminator in ACGAN_DISCRIMINATORS else DISCRIMINATORS
    g = GENERATORS.build(generator, latent_dim, num_classes, data_shape, options=generator_options)
    d = registry.build(discriminator, num_classes, data_shape, options=net_options)
    return g, apply_remedies(d, remedies, discriminator)
