"""The noise behind "sample i of seed s": the same z whatever the batch size, device or
number of processes, so `generate`, `evaluate` and the metric callbacks agree."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

NOISE_CHUNK = 1024  # z is drawn in chunks of this size, independent of any batch size


def fixed_noise(model, num: int, seed: int) -> Tensor:
    """z for samples 0..num-1 of ``seed`` (on the model's device), drawn on the CPU."""
    generator = torch.Generator().manual_seed(seed)
    chunks = [model.noise(min(NOISE_CHUNK, num - start), generator=generator) for start in range(0, num, NOISE_CHUNK)]
    return torch.cat(chunks)


def sample_rows(model, num: int, seed: int, rows: range, batch_size: int) -> Iterator[Tensor]:
    """Float batches (on the CPU) of samples ``rows`` among the ``num`` samples of ``seed``.

    A model that samples with batch statistics (``model.sample_group`` = B, see
    lit_gan.models.gan.GAN's ``sample_mode``) makes sample i in the group of indices
    [B * (i // B), B * (i // B + 1)) of the whole set: whole groups are generated here and
    cut to ``rows``, so a sample is the same at any ``batch_size`` (ignored then: one group
    is one batch) and in any shard of K processes. Without groups, ``batch_size`` only
    splits G's work.
    """
    if rows.start < 0 or rows.stop > num or rows.step != 1:
        raise ValueError(f"rows {rows} must be a contiguous range inside 0..{num}")
    if len(rows) == 0:
        return
    group = getattr(model, "sample_group", None)
    z = fixed_noise(model, num, seed)
    with torch.no_grad():
        if not group:
            for part in z[rows.start : rows.stop].split(batch_size):
                yield model.generate(part).cpu()
            return
        for start in range(rows.start - rows.start % group, rows.stop, group):
            out = model.generate(z[start : min(start + group, num)]).cpu()
            lo, hi = max(rows.start - start, 0), min(rows.stop - start, len(out))
            yield out[lo:hi]
