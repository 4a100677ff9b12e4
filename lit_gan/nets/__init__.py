"""Pure ``nn.Module`` nets, one architecture family per file, built by name from the registries
below (lit_gan.nets.registry): a new net is its file, one line here and its test.

Models call :func:`build_generator` / :func:`build_discriminator` with plain
hyperparameters so checkpoints hold only numbers and strings, never pickled modules.
Image-to-image models (pix2pix, CycleGAN) call :func:`build_translator` and
:func:`build_patch_discriminator`: their nets take images, not noise. Class-conditional nets:
lit_gan.nets.conditional.
"""

from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from lit_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from lit_gan.nets.mlp import MaxoutDiscriminator, MLPDiscriminator, MLPGenerator
from lit_gan.nets.patchgan import PatchDiscriminator, PixelDiscriminator
from lit_gan.nets.registry import Registry, square_image
from lit_gan.nets.remedies import REMEDY_OPTIONS, apply_remedies, packed_shape, split_remedies
from lit_gan.nets.translators import translator

# G(z): builder(latent_dim, data_shape, **options)
GENERATORS = Registry("generator", {
    "mlp": MLPGenerator,
    "dcgan": lambda latent_dim, shape, **o: DCGANGenerator(latent_dim, **square_image(shape, "dcgan"), **o),
})
# D(x) -> one logit per sample: builder(data_shape, **options)
DISCRIMINATORS = Registry("discriminator", {
    "mlp": MLPDiscriminator,
    "maxout": MaxoutDiscriminator,
    "dcgan": lambda shape, **o: DCGANDiscriminator(**square_image(shape, "dcgan"), **o),
})
# image -> image: builder(in_channels, out_channels, image_size, **options); "unet" / "resnet"
# pick their depth from the image size, the others fix it (the reference code's names)
TRANSLATORS = Registry("translator", {
    "unet": translator("unet"), "unet_128": translator("unet", 7, "unet_128"), "unet_256": translator("unet", 8, "unet_256"),
    "resnet": translator("resnet"), "resnet_6blocks": translator("resnet", 6, "resnet_6blocks"),
    "resnet_9blocks": translator("resnet", 9, "resnet_9blocks"),
})
# a map of logits, one per patch: builder(in_channels, **options)
PATCH_DISCRIMINATORS = Registry("patch discriminator", {"patchgan": PatchDiscriminator, "pixelgan": PixelDiscriminator})


def build_generator(arch: str, latent_dim: int, data_shape: Sequence[int], options: dict[str, Any]) -> nn.Module:
    return GENERATORS.build(arch, latent_dim, data_shape, options=options)


def build_discriminator(arch: str, data_shape: Sequence[int], options: dict[str, Any]) -> nn.Module:
    """D by name; the mode-collapse remedies among ``options`` (pack, minibatch_discrimination,
    minibatch_stddev: lit_gan.nets.remedies) wrap or extend the net."""
    DISCRIMINATORS.check(arch)
    remedies, options = split_remedies(options)
    shape = packed_shape(data_shape, remedies.pack)  # a packed D reads m samples side by side
    return apply_remedies(DISCRIMINATORS.build(arch, shape, options=options), remedies, arch)


def build_translator(arch: str, in_channels: int, out_channels: int, image_size: int, options: dict[str, Any]) -> nn.Module:
    """An image-to-image generator (N, in_channels, S, S) -> (N, out_channels, S, S).

    ``unet`` takes ``num_downs`` from the image size (256 -> 8, 128 -> 7, 64 -> 6) and
    ``resnet`` takes ``n_blocks`` (6 up to 128 px, 9 above) unless the options give them.
    """
    return TRANSLATORS.build(arch, in_channels, out_channels, image_size, options=options)


def build_patch_discriminator(arch: str, in_channels: int, options: dict[str, Any]) -> nn.Module:
    """A discriminator that returns a map of logits (N, 1, h, w), one per patch.

    ``in_channels``: pix2pix's conditional D reads concat(A, B), CycleGAN's one image.
    ``patchgan`` takes ``n_layers`` (1 -> 16x16, 3 -> 70x70, 5 -> 286x286 patches);
    ``pixelgan`` is the 1x1 PixelGAN.
    """
    PATCH_DISCRIMINATORS.check(arch)
    remedies = sorted(set(options) & set(REMEDY_OPTIONS))
    if remedies:
        raise ValueError(f"discriminator_options {remedies} are for discriminators that make one decision per "
                         f"sample (mlp, maxout, dcgan); the {arch!r} patch discriminator judges patches: remove them")
    return PATCH_DISCRIMINATORS.build(arch, in_channels, options=options)
