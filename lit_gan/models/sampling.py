"""The noise behind "sample i of seed s": the same z whatever the batch size, device or
number of processes, so `generate`, `evaluate` and the metric callbacks agree."""

from __future__ import annotations

import torch
from torch import Tensor

NOISE_CHUNK = 1024  # z is drawn in chunks of this size, independent of any batch size


def fixed_noise(model, num: int, seed: int) -> Tensor:
    """z for samples 0..num-1 of ``seed`` (on the model's device), drawn on the CPU."""
    generator = torch.Generator().manual_seed(seed)
    chunks = [model.noise(min(NOISE_CHUNK, num - start), generator=generator) for start in range(0, num, NOISE_CHUNK)]
    return torch.cat(chunks)
