"""The registry's ``class_diversity`` metric: within-class pixel diversity of a labelled source
(lit_gan.metrics.class_diversity has the definition).

It reads the source's uint8 samples and the labels they were made for: a conditional
checkpoint, a samples file with ``labels``, or a split's real images written as one (a
``floor`` row of ``reproduce``), so the real data's own diversity comes out the same way.
Each process sums its shard; the integer sums are added over processes.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lit_gan.distributed import shard, sum_over_ranks, world
from lit_gan.errors import CommandError
from lit_gan.metrics.class_diversity import class_pixel_sums, per_class_diversity


def class_diversity_metric(ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    source = ctx.source
    k = source.label_classes
    if not k:
        raise CommandError("class_diversity scores class-conditional samples: evaluate a conditional checkpoint or a "
                           "samples file with a `labels` array (from `generate` on one)")
    rank, size = world()
    rows = shard(source.num, rank, size)
    labels = source.labels(rows)
    p = math.prod(source.shape)
    def zeros(*shape: int) -> torch.Tensor:
        # cpu: exact integer sums of uint8 pixels, kept with the .cpu() batches; sum_over_ranks moves them for the collective
        return torch.zeros(*shape, dtype=torch.long)

    count, total, squares = zeros(k), zeros(k, p), zeros(k, p)
    start = 0
    for batch in source.uint8_batches(rows, ctx.protocol.batch_size):
        part = class_pixel_sums(batch.cpu(), labels[start : start + len(batch)].cpu(), k)
        count, total, squares = count + part[0], total + part[1], squares + part[2]
        start += len(batch)
    count, total, squares = (sum_over_ranks(t) for t in (count, total, squares))
    per_class = per_class_diversity(count, total, squares)
    scored = ~per_class.isnan()
    if not scored.any():
        raise CommandError(f"class_diversity needs at least 2 samples of some class; got counts {count.tolist()}: "
                           "raise --num")
    skipped = [c for c in range(k) if not scored[c]]
    if skipped:
        ctx.warn(f"class_diversity: classes {skipped} have fewer than 2 samples and are left out of the mean")
    values = {"class_diversity": float(per_class[scored].mean()), "class_diversity_min": float(per_class[scored].min())}
    card = {"per_class": [None if c in skipped else float(per_class[c]) for c in range(k)],
            "per_class_count": count.tolist(),
            "definition": "per class: std over the class's samples of each pixel (n - 1), mean over pixels and "
                          "channels; class_diversity: mean over classes with >= 2 samples; class_diversity_min: "
                          "the least diverse class (0: that class collapsed to one image)",
            "pixels": "[0, 1]: uint8 / 255 (generated samples rounded as saved images are)"}
    return values, card
