"""Builders of the image-to-image generators by depth rule (lit_gan.nets.TRANSLATORS): a fixed
depth (``unet_256``: 8 halvings) or one picked from the image size (``unet``, ``resnet``)."""

from __future__ import annotations

from typing import Any, Callable, Literal

from torch import nn

from lit_gan.nets.resnet_generator import ResnetGenerator, resnet_blocks_for
from lit_gan.nets.unet import UNetGenerator, unet_depth_for

FAMILIES = {"unet": (UNetGenerator, "num_downs", unet_depth_for), "resnet": (ResnetGenerator, "n_blocks", resnet_blocks_for)}


def translator(family: Literal["unet", "resnet"], depth: int | None = None, name: str | None = None) -> Callable[..., nn.Module]:
    """builder(in_channels, out_channels, image_size, **options) of a ``family`` net whose depth is
    ``depth`` (the net registered as ``name``) or, when None, the options' or the one for the image size."""
    net_class, key, depth_for = FAMILIES[family]

    def build(in_channels: int, out_channels: int, image_size: int, **options: Any) -> nn.Module:
        if depth is not None:
            if key in options and options[key] != depth:
                raise ValueError(f"The {name!r} translator has {key}={depth}; got translator options {key}={options[key]}")
            options[key] = depth
        options.setdefault(key, depth_for(image_size))
        net = net_class(in_channels, out_channels, **options)
        net.check_size(image_size, image_size)  # refuse a size the net cannot map back to itself, now
        return net

    return build
