"""Images in [-1, 1] <-> uint8: how datasets read stored images, and the one conversion every metric input goes through.

Generated and real images both pass through ``to_uint8`` so they are compared in the form
images are stored in. torchmetrics' ``normalize=True`` casts with ``.byte()``, which wraps
(-0.01 -> 254) and truncates; here values are clamped first, then rounded.
"""

from __future__ import annotations

import torch
from torch import Tensor


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] float (any shape) -> uint8 in [0, 255]: clamp, then round to nearest.

    uint8 input is returned unchanged, so already-quantized images can be passed again.
    """
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise TypeError(f"expected float images in [-1, 1] or uint8, got dtype {images.dtype}")
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def uint8_to_unit_range(images: Tensor) -> Tensor:
    """uint8 -> float in [-1, 1], the inverse of ``to_uint8`` on its image."""
    return images.float() / 127.5 - 1


def to_rgb(images: Tensor) -> Tensor:
    """(N, 1, H, W) -> (N, 3, H, W) by repeating the channel; 3-channel images pass."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape (N, 1 or 3, H, W), got {tuple(images.shape)}")
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
