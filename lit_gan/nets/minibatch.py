"""Layers that let D compare the samples of a minibatch: a remedy for mode collapse.

A D that judges each sample alone cannot see that all fakes are the same; these layers give
its last layer a statistic of the whole minibatch.

* ``MinibatchDiscrimination`` (Salimans et al. 2016, "Improved Techniques for Training
  GANs", sec. 3.2): features f (N, A) -> M = f T reshaped (N, B, C) with a learned tensor
  T (A, B, C); for kernel b, o_b(x_i) = sum_{j != i} exp(-||M_i,b - M_j,b||_1); the layer
  returns [f, o] (N, A + B). Defaults B = 100 kernels of C = 5 dimensions: the authors'
  released code (improved-gan ``MinibatchLayer(num_kernels=100)``, ``dim_per_kernel=5``),
  with their N(0, 0.05) init of T and a learned per-kernel bias starting at -1. Cost:
  O(N^2 B C) per D call (benchmarks/minibatch_cost.py measures it).
* ``MinibatchStdDev`` (Karras et al. 2018, "Progressive Growing of GANs", sec. 3): the
  standard deviation of every feature over a group of samples, averaged to one number per
  group, appended as one extra feature (map). Group size 4: the authors' code
  (``mbstd_group_size=4``); a batch whose size is not a multiple of it uses the largest
  common divisor (a group of 1 has std 0).

Both couple the samples of a batch, as BatchNorm does: under DDP each process compares its
own samples only, and D must see real and fake batches in separate calls (lit_gan's
models do), so a batch of fakes is compared with fakes.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

MD_KERNELS = 100  # Salimans et al. 2016, released code: MinibatchLayer(num_kernels=100)
MD_KERNEL_DIM = 5  # ... dim_per_kernel=5
MD_INIT_STD = 0.05  # ... theta=Normal(0.05)
MD_INIT_BIAS = -1.0  # ... b=Constant(-1.)
STDDEV_GROUP = 4  # Karras et al. 2018, released code: mbstd_group_size=4


class MinibatchDiscrimination(nn.Module):
    """(N, A) features -> (N, A + kernels): the features and their closeness to the others."""

    def __init__(self, in_features: int, kernels: int = MD_KERNELS, kernel_dim: int = MD_KERNEL_DIM) -> None:
        super().__init__()
        if kernels < 1 or kernel_dim < 1:
            raise ValueError(f"minibatch discrimination needs kernels >= 1 and kernel_dim >= 1, "
                             f"got kernels={kernels}, kernel_dim={kernel_dim}")
        self.in_features, self.kernels, self.kernel_dim = in_features, kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * MD_INIT_STD)  # cpu: a parameter's initial value, moved with the module; (A, B*C)
        self.bias = nn.Parameter(torch.full((kernels,), MD_INIT_BIAS))  # cpu: a parameter's initial value, moved with the module

    @property
    def out_features(self) -> int:
        return self.in_features + self.kernels

    def forward(self, f: Tensor) -> Tensor:
        m = (f @ self.T).view(-1, self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        # batched L1 distances, one N x N matrix per kernel: 4x faster than broadcasting a
        # (N, N, B, C) difference, forward and backward (benchmarks/minibatch_cost.py)
        l1 = torch.cdist(m, m, p=1)  # (B, N, N): ||M_i,b - M_j,b||_1
        closeness = torch.exp(-l1).sum(dim=2) - 1.0  # (B, N); exp(-0) = 1 is the sample itself
        return torch.cat([f, closeness.t() + self.bias], dim=1)


class MinibatchStdDev(nn.Module):
    """(N, C) or (N, C, H, W) -> one more channel: the mean std over each group of samples."""

    def __init__(self, group_size: int = STDDEV_GROUP) -> None:
        super().__init__()
        if group_size < 1:
            raise ValueError(f"minibatch_stddev_group must be >= 1, got {group_size}")
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        g = math.gcd(n, self.group_size)  # groups of g consecutive samples; g divides n
        grouped = x.float().view(n // g, g, *x.shape[1:])  # (N/g, g, C, ...)
        # the biased variance written out: torch.var over a middle axis took 20 ms here on a
        # (16, 4, 128, 7, 7) map, more than the rest of DCGAN's D step together
        centred = grouped - grouped.mean(dim=1, keepdim=True)
        std = (centred.square().mean(dim=1) + 1e-8).sqrt()  # (N/g, C, ...)
        per_group = std.flatten(1).mean(dim=1).to(x.dtype)  # (N/g,)
        stat = per_group.repeat_interleave(g)  # (N,): each sample gets its group's value
        extra = stat.view(n, 1, *([1] * (x.dim() - 2))).expand(n, 1, *x.shape[2:])  # (N, 1, ...)
        return torch.cat([x, extra], dim=1)
