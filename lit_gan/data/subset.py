"""A seeded, class-stratified fraction of a labelled training split (low-data experiments).

Stratified because a plain random 1% of Fashion-MNIST (500 images) can miss a class's
share by a third or more, and a GAN trained on it then *should* under-produce that class:
the table would measure the subset's imbalance, not the stabilizer. Keeping
``round(fraction * count)`` of every class (at least 1) keeps the class histogram.

The choice depends on the labels and ``seed`` alone (its own ``torch.Generator``, never the
global RNG), so every rank and every rerun of a config keeps the same images.
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_fraction(fraction: float) -> None:
    """A one-line refusal for a fraction outside (0, 1]."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"train_fraction must be in (0, 1] (1.0: the whole training split; 0.1: 10% of it), "
                         f"got {fraction}")


def stratified_subset(labels: Tensor, fraction: float, seed: int) -> Tensor:
    """Sorted indices of ``round(fraction * n_c)`` (at least 1) items of every class c, drawn with ``seed``."""
    check_fraction(fraction)
    if fraction == 1.0:
        return torch.arange(len(labels))
    generator = torch.Generator().manual_seed(seed)
    kept = []
    for c in torch.unique(labels).tolist():  # sorted: the draws happen in the same order everywhere
        members = torch.nonzero(labels == c).flatten()
        keep = max(1, round(fraction * len(members)))
        kept.append(members[torch.randperm(len(members), generator=generator)[:keep]])
    return torch.cat(kept).sort().values
