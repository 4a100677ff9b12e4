"""DiffAugment's five operations with their random parameters given (Zhao et al. 2020,
"Differentiable Augmentation for Data-Efficient GAN Training", sec. 3 and the authors'
DiffAugment_pytorch.py). Each is differentiable in the images and acts per sample: the
parameters are tensors of shape (N,), one value per image. Images are (N, C, H, W).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def _per_sample(values: Tensor, x: Tensor) -> Tensor:
    """(N,) -> (N, 1, 1, 1) in the images' dtype and device, to broadcast over (C, H, W)."""
    return values.to(device=x.device, dtype=x.dtype).view(-1, 1, 1, 1)


def add_brightness(x: Tensor, shift: Tensor) -> Tensor:
    """``x + shift``: the same offset on every pixel and channel of an image."""
    return x + _per_sample(shift, x)


def scale_saturation(x: Tensor, factor: Tensor) -> Tensor:
    """Each pixel's distance from its own channel mean (its gray value) times ``factor``:
    0 makes the image gray, 1 leaves it, 2 doubles its colour. A 1-channel image is unchanged."""
    gray = x.mean(dim=1, keepdim=True)
    return gray + (x - gray) * _per_sample(factor, x)


def scale_contrast(x: Tensor, factor: Tensor) -> Tensor:
    """Each value's distance from the image's mean (over C, H, W) times ``factor``."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return mean + (x - mean) * _per_sample(factor, x)


def translate(x: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """Integer shift per image, zero-filled: ``out[n, :, i, j] = x[n, :, i + rows[n], j + cols[n]]``
    where that pixel exists, else 0 (so positive ``rows`` moves the content up)."""
    n, c, h, w = x.shape
    padded = F.pad(x, (1, 1, 1, 1))  # a zero border: indices that leave the image land on it
    row_index = (torch.arange(h, device=x.device) + rows.to(x.device).view(-1, 1) + 1).clamp(0, h + 1)  # (N, H)
    col_index = (torch.arange(w, device=x.device) + cols.to(x.device).view(-1, 1) + 1).clamp(0, w + 1)  # (N, W)
    picked_rows = padded.gather(2, row_index.view(n, 1, h, 1).expand(n, c, h, w + 2))  # (N, C, H, W + 2)
    return picked_rows.gather(3, col_index.view(n, 1, 1, w).expand(n, c, h, w))  # (N, C, H, W)


def cut_out(x: Tensor, top: Tensor, left: Tensor, height: int, width: int) -> Tensor:
    """Zero a ``height`` x ``width`` rectangle at (``top``, ``left``) of each image, on every
    channel; the part outside the image (negative or large offsets) is ignored."""
    _, _, h, w = x.shape
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    top, left = top.to(x.device).view(-1, 1), left.to(x.device).view(-1, 1)
    in_rows = (rows >= top) & (rows < top + height)  # (N, H)
    in_cols = (cols >= left) & (cols < left + width)  # (N, W)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])  # (N, H, W)
    return x * keep.unsqueeze(1).to(x.dtype)
