"""The Parzen-window protocol of Goodfellow et al. 2014 over a datamodule, on 1 or K ranks.

Every rank holds all generated samples (the window's centres); the validation points
that choose sigma and the test points are split over the ranks and their per-point
log-likelihoods gathered, so K processes give one process's numbers.

The centres are G's continuous outputs, as the authors' parzen_ll.py (it evaluates the
generator's sigmoid outputs, never rounded to 8 bits): callers pass float batches in
[-1, 1]. uint8 batches (a samples file without a float copy) still work; the card then
says the pixels were rounded. Real images are uint8 / 255, as MNIST's own pixels.
Everything runs on the evaluation's device (``device``: float64; float32 on MPS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from lit_gan.distributed import gather_rows, shard, world
from lit_gan.evaluation.real import real_images, split_dataset
from lit_gan.metrics.device import card as device_card
from lit_gan.metrics.parzen import NUM_VAL, SIGMAS, best_sigma, flatten_unit, parzen_log_likelihoods, summarize


def _per_point(samples: Tensor, points: Tensor, sigmas, progress: bool) -> Tensor:
    """(len(sigmas), len(points)) log-likelihoods, this rank computing its shard only."""
    rank, size = world()
    rows = shard(len(points), rank, size)
    local = parzen_log_likelihoods(samples, points[rows.start : rows.stop], sigmas, progress=progress)
    return gather_rows(local.T.contiguous()).T


def parzen_metric(ctx) -> tuple[dict[str, float], dict[str, Any]]:
    """The registry's entry (lit_gan.evaluation.registry): Parzen on a SampleContext's
    source, G's float outputs when it has them, else its uint8 samples (with a warning)."""
    source, batch_size = ctx.source, ctx.protocol.batch_size
    if source.float_batches(range(0, 0), batch_size) is None and "samples" in source.card():
        ctx.warn(f"{source.card().get('samples', 'the source')} holds only uint8 samples, so Parzen uses rounded "
                 "pixels (not the protocol's float outputs); write it with `generate --keep-float`")

    def batches(rows: range):
        floats = source.float_batches(rows, batch_size)
        return floats if floats is not None else source.uint8_batches(rows, batch_size)

    return parzen_window(batches, source.num, ctx.datamodule, ctx.protocol.split, ctx.progress, ctx.device)


def parzen_on_points(samples: Tensor, val: Tensor, test: Tensor, progress: bool = False
                     ) -> tuple[float, float, float, Tensor]:
    """The whole protocol on flattened [0, 1] points (``flatten_unit``): sigma chosen on
    ``val``, then (mean, standard error) of ``test``'s log-likelihoods, (sigma, validation
    mean per sigma). Every rank holds all samples; the points are sharded."""
    val_ll = _per_point(samples, val, SIGMAS, progress)
    sigma, val_means = best_sigma(SIGMAS, val_ll)
    mean, sem = summarize(_per_point(samples, test, [sigma], progress)[0])
    return mean, sem, sigma, val_means


def parzen_window(fake_batches: Callable[[range], Iterable[Tensor]], num: int, datamodule, split: str,
                  progress: bool = False, device: str | torch.device = "cpu"
                  ) -> tuple[dict[str, float], dict[str, Any]]:
    """Mean test log-likelihood (nats) +- standard error, and the protocol's card; computed on ``device``."""
    rank, size = world()
    local = torch.cat([b.to(device) for b in fake_batches(shard(num, rank, size))])
    gathered = gather_rows(local)
    rounded = not gathered.is_floating_point()
    samples = flatten_unit(gathered if rounded else gathered.clamp(-1, 1))  # clamped as to_uint8 would
    val = flatten_unit(real_images(datamodule, "val", min(NUM_VAL, len(split_dataset(datamodule, "val")))).to(device))
    test = flatten_unit(real_images(datamodule, split).to(device))
    mean, sem, sigma, val_means = parzen_on_points(samples, val, test, progress)
    card = {"n_samples": num, "n_val": len(val), "n_test": len(test), "split": split, "pixels": "[0, 1]; real: uint8 / 255",
            "generated": ("uint8 / 255: rounded samples, not the protocol's float outputs" if rounded
                          else "float G(z) in [-1, 1] -> (x + 1) / 2, clamped to [0, 1], not rounded (the protocol)"),
            "sigmas": [float(s) for s in SIGMAS], "val_mean_per_sigma": [float(v) for v in val_means],
            "source": "Goodfellow et al. 2014, Table 1 protocol (Parzen window, sigma chosen on validation)",
            "computed": device_card(samples.device)}
    return {"parzen_ll": float(mean), "parzen_ll_sem": float(sem), "parzen_sigma": sigma}, card

