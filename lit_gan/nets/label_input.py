"""Labels as class indices or as class weights: the one place a conditional G reads them.

Every conditional generator takes ``y`` either as int64 class indices (N,) or as float
class weights (N, K), rows summing to 1 (one-hot = that class; a mix = a point between
classes, e.g. for walking from one class to another at a fixed z). Indices keep their exact
lookups; weights mix what the classes' lookups would give: ``weights @ table``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def class_weights(y: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    """(N,) class indices -> one-hot (N, K); (N, K) float class weights -> as given; in ``dtype``."""
    if y.is_floating_point():
        if y.dim() != 2 or y.shape[1] != num_classes:
            raise ValueError(f"float labels are class weights of shape (N, {num_classes}); got {tuple(y.shape)} "
                             f"(pass class indices as an integer tensor of shape (N,))")
        return y.to(dtype)
    return F.one_hot(y.long(), num_classes).to(dtype)


def embed_labels(y: Tensor, table: nn.Embedding) -> Tensor:
    """``table(y)`` (N, D) for class indices; the weighted mix ``weights @ table.weight`` for (N, K) weights."""
    if y.is_floating_point():
        return class_weights(y, table.num_embeddings, table.weight.dtype) @ table.weight  # (N, K) @ (K, D)
    return table(y)
