"""Pure ``nn.Module`` nets, one architecture family per file, built by name.

Models call :func:`build_generator` / :func:`build_discriminator` with plain
hyperparameters so checkpoints hold only numbers and strings, never pickled modules.
Image-to-image models (pix2pix, CycleGAN) call :func:`build_translator` and
:func:`build_patch_discriminator`: their nets take images, not noise.
"""

from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from lit_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from lit_gan.nets.mlp import MaxoutDiscriminator, MLPDiscriminator, MLPGenerator
from lit_gan.nets.patchgan import PatchDiscriminator, PixelDiscriminator
from lit_gan.nets.remedies import REMEDY_OPTIONS, apply_remedies, packed_shape, split_remedies
from lit_gan.nets.resnet_generator import ResnetGenerator, resnet_blocks_for
from lit_gan.nets.unet import UNetGenerator, unet_depth_for

GENERATORS = ("mlp", "dcgan")
DISCRIMINATORS = ("mlp", "maxout", "dcgan")
# "unet" / "resnet" pick their depth from the image size; the others fix it (the reference code's names)
TRANSLATORS = ("unet", "unet_128", "unet_256", "resnet", "resnet_6blocks", "resnet_9blocks")
PATCH_DISCRIMINATORS = ("patchgan", "pixelgan")
_FIXED_DEPTH = {"unet_128": ("num_downs", 7), "unet_256": ("num_downs", 8),
                "resnet_6blocks": ("n_blocks", 6), "resnet_9blocks": ("n_blocks", 9)}


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
    """D by name; the mode-collapse remedies among ``options`` (pack, minibatch_discrimination,
    minibatch_stddev: lit_gan.nets.remedies) wrap or extend the net."""
    remedies, options = split_remedies(options)
    shape = packed_shape(data_shape, remedies.pack)  # a packed D reads m samples side by side
    if arch == "mlp":
        net = _build(arch, "discriminator", options, lambda: MLPDiscriminator(shape, **options))
    elif arch == "maxout":
        net = _build(arch, "discriminator", options, lambda: MaxoutDiscriminator(shape, **options))
    elif arch == "dcgan":
        channels, size = _check_image(shape, arch)
        net = _build(arch, "discriminator", options, lambda: DCGANDiscriminator(size, channels, **options))
    else:
        raise ValueError(f"Unknown discriminator {arch!r}; choose one of {DISCRIMINATORS}")
    return apply_remedies(net, remedies, arch)


def build_translator(arch: str, in_channels: int, out_channels: int, image_size: int, options: dict[str, Any]) -> nn.Module:
    """An image-to-image generator (N, in_channels, S, S) -> (N, out_channels, S, S).

    ``unet`` takes ``num_downs`` from the image size (256 -> 8, 128 -> 7, 64 -> 6) and
    ``resnet`` takes ``n_blocks`` (6 up to 128 px, 9 above) unless the options give them.
    """
    if arch not in TRANSLATORS:
        raise ValueError(f"Unknown translator {arch!r}; choose one of {TRANSLATORS}")
    options = dict(options)
    if arch in _FIXED_DEPTH:
        key, depth = _FIXED_DEPTH[arch]
        if key in options and options[key] != depth:
            raise ValueError(f"The {arch!r} translator has {key}={depth}; got translator options {key}={options[key]}")
        options[key] = depth
    if arch.startswith("unet"):
        options.setdefault("num_downs", unet_depth_for(image_size))
        net = _build(arch, "translator", options, lambda: UNetGenerator(in_channels, out_channels, **options))
    else:
        options.setdefault("n_blocks", resnet_blocks_for(image_size))
        net = _build(arch, "translator", options, lambda: ResnetGenerator(in_channels, out_channels, **options))
    net.check_size(image_size, image_size)  # refuse a size the net cannot map back to itself, now
    return net


def build_patch_discriminator(arch: str, in_channels: int, options: dict[str, Any]) -> nn.Module:
    """A discriminator that returns a map of logits (N, 1, h, w), one per patch.

    ``in_channels``: pix2pix's conditional D reads concat(A, B), CycleGAN's one image.
    ``patchgan`` takes ``n_layers`` (1 -> 16x16, 3 -> 70x70, 5 -> 286x286 patches);
    ``pixelgan`` is the 1x1 PixelGAN.
    """
    remedies = sorted(set(options) & set(REMEDY_OPTIONS))
    if remedies:
        raise ValueError(f"discriminator_options {remedies} are for discriminators that make one decision per "
                         f"sample (mlp, maxout, dcgan); the {arch!r} patch discriminator judges patches: remove them")
    if arch == "patchgan":
        return _build(arch, "discriminator", options, lambda: PatchDiscriminator(in_channels, **options))
    if arch == "pixelgan":
        return _build(arch, "discriminator", options, lambda: PixelDiscriminator(in_channels, **options))
    raise ValueError(f"Unknown patch discriminator {arch!r}; choose one of {PATCH_DISCRIMINATORS}")
