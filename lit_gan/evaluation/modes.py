"""The registry's ``modes`` metric: mode coverage of 2-D samples on a mixture with known
modes (lit_gan.metrics.modes has the definitions and their sources)."""

from __future__ import annotations

from typing import Any

import torch

from lit_gan.errors import CommandError
from lit_gan.metrics.modes import mode_statistics

NUM_SAMPLES = 2_500  # VEEGAN / PacGAN evaluate 2,500 samples
MIN_COUNT = 20  # high-quality samples a mode needs to count as covered (ours; see lit_gan.metrics.modes)
VEEGAN_MIN_COUNT = 1  # VEEGAN's Table 1 and PacGAN's code count a mode with a single sample


def points(ctx) -> torch.Tensor:
    """All of the source's samples as float (N, 2) points (this is cheap: no sharding)."""
    batches = ctx.source.float_batches(range(ctx.source.num), ctx.protocol.batch_size)
    if batches is None:
        raise CommandError("modes needs 2-D float samples: evaluate a 2-D toy checkpoint with --ckpt")
    out = torch.cat([b.float().cpu() for b in batches])
    if out.dim() != 2:
        raise CommandError(f"modes counts 2-D points; these samples have shape {tuple(out.shape[1:])}")
    return out


def modes_metric(ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    datamodule = ctx.datamodule
    if getattr(datamodule, "modes", None) is None or getattr(datamodule, "mode_std", None) is None:
        raise CommandError(f"modes needs data with known modes (Toy2DDataModule); {type(datamodule).__name__} has none")
    samples = points(ctx)
    stats = mode_statistics(samples, datamodule.modes, datamodule.mode_std, ctx.min_count)
    veegan = mode_statistics(samples, datamodule.modes, datamodule.mode_std, VEEGAN_MIN_COUNT)
    values = {"modes_covered": stats["modes_covered"], "modes_covered_min1": veegan["modes_covered"],
              "num_modes": stats["num_modes"], "high_quality_fraction": stats["high_quality_fraction"],
              "mode_reverse_kl": stats["reverse_kl"]}  # PacGAN's reverse KL (Lin et al. 2018, Table 1)
    card = {"samples": len(samples), "min_count": ctx.min_count, "noise_seed": ctx.protocol.seed,
            "modes_covered_min1": "modes with >= 1 high-quality sample (VEEGAN / PacGAN)",
            "mode_reverse_kl": "KL(high-quality samples' mode histogram || uniform), nats; log K if none (PacGAN)",
            "mode_counts": stats["mode_counts"]}
    return values, card
