"""Within-class diversity of labelled images: how much a class's samples differ, pixel by pixel.

For class k with n_k >= 2 images x_1..x_n (pixels in [0, 1]: uint8 / 255), the diversity is
the per-pixel standard deviation across the class's images (Bessel's n - 1), averaged over
pixels and channels; ``class_diversity`` is the mean over classes. A generator that gives
one image per class (within-class collapse, AC-GAN's failure that TAC-GAN and ADC-GAN
address) scores exactly 0; real data scores its own spread, the number to compare with.

The sums are kept as integers of uint8 pixels (count, sum, sum of squares per class and
pixel), so shards add exactly over processes and n * sum(x^2) - (sum x)^2 is exact: a
collapsed class gives 0.0, not a rounding residue.
"""

from __future__ import annotations

import torch
from torch import Tensor


def class_pixel_sums(images: Tensor, labels: Tensor, num_classes: int) -> tuple[Tensor, Tensor, Tensor]:
    """uint8 images (N, ...) with int labels (N,) in [0, K) -> int64 (count (K,), sum (K, P),
    sum of squares (K, P)), P the pixels of one image, on the images' device."""
    if images.dtype != torch.uint8:
        raise ValueError(f"class_pixel_sums takes uint8 images (0..255), got {images.dtype}")
    if labels.shape != (len(images),):
        raise ValueError(f"labels must be one per image, shape ({len(images)},); got {tuple(labels.shape)}")
    labels = labels.to(images.device, torch.long)
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}); got {labels.min().item()}..{labels.max().item()}")
    x = images.flatten(1).long()  # (N, P)
    count = torch.zeros(num_classes, dtype=torch.long, device=images.device).index_add_(0, labels, torch.ones_like(labels))
    total = torch.zeros(num_classes, x.shape[1], dtype=torch.long, device=images.device).index_add_(0, labels, x)
    squares = torch.zeros_like(total).index_add_(0, labels, x * x)
    return count, total, squares


def per_class_diversity(count: Tensor, total: Tensor, squares: Tensor) -> Tensor:
    """float64 (K,): mean over pixels of the class's per-pixel std in [0, 1] units (n - 1
    denominator); NaN for a class with fewer than 2 images."""
    n = count[:, None]
    spread = (n * squares - total * total).double()  # n^2 * biased variance, exact in int64
    variance = spread / (n * (n - 1)).clamp(min=1).double() / 255.0**2
    out = variance.clamp(min=0).sqrt().mean(dim=1)
    return torch.where(count >= 2, out, torch.full_like(out, float("nan")))
