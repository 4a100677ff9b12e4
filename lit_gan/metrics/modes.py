"""Mode coverage on mixtures with known modes (the 2-D ring / grid benchmarks).

Definitions followed (``mode_statistics``):

* A generated sample is **high quality** when its Euclidean distance to the
  *nearest* mode is strictly less than 3 standard deviations of that mode:
  ``min_k ||x - mu_k|| < 3 * std``. This is VEEGAN's rule (Srivastava et al. 2017,
  synthetic experiments: a sample is "high quality if it is within three standard
  deviations of the nearest mode, for the 2D dataset"); the PacGAN reference code
  (``MetricLogger``, ``dis_thre=3``) implements it as the strict ``<`` used here,
  with the same nearest-mode assignment (for isotropic, equal-std modes its
  std-normalised distance picks the same mode as the Euclidean one).
* Each high-quality sample is **registered** to its nearest mode.
* A mode is **covered** when at least ``min_count`` high-quality samples are
  registered to it. VEEGAN's text ("nearest to at least one high quality sample")
  and the PacGAN code (``numpy.nonzero(detail_of_coverage)``) count a mode with a
  single sample: ``min_count=1`` is their definition. The default ``min_count=20``
  is the stricter "fewer than 20 of 2,500 samples = mode lost" rule attributed to
  PacGAN (Lin et al. 2018; 1/5 of the 100 samples a 25-mode grid expects per mode;
  not in its released code), so one stray point does not count as a mode learned.
  Report ``min_count`` next to the number.
* ``high_quality_fraction`` = high-quality samples / all samples (VEEGAN's
  "% high quality samples", as a fraction).
* ``reverse_kl`` = KL(p || u) = sum_k p_k log(p_k K), natural log, 0 log 0 = 0, where
  p_k = (high-quality samples registered to mode k) / (all high-quality samples) and u is
  uniform over the K modes: PacGAN's "reverse KL" (Lin et al. 2018, Table 1), 0 for an
  even spread, log K for all samples in one mode. The released ``MetricLogger`` logs the
  same histogram's ``entropy of coverage`` H(p) = ``scipy.stats.entropy(counts / sum)``
  (natural log, high-quality samples only), and KL(p || u) = log K - H(p). With no
  high-quality sample p is undefined (0 / 0: their entropy and JSD come out NaN); we report
  log K, the largest value KL(p || u) can take, so a run that hits no mode never scores
  better than a collapse onto one (``high_quality_fraction`` = 0 tells the two apart).
  It does not depend on ``min_count``.

Both papers draw 2,500 samples per evaluation: the default of ``ModeCoverage``
(lit_gan.callbacks.mode_coverage, the callback that logs these numbers during training).
"""

from __future__ import annotations

import math
from typing import TypedDict

import torch
from torch import Tensor

HIGH_QUALITY_STDS = 3.0  # VEEGAN, Srivastava et al. 2017 (2-D datasets; 10 for 1200-D)


class ModeStats(TypedDict):
    modes_covered: int  # modes with >= min_count high-quality samples
    high_quality_fraction: float  # in [0, 1]
    mode_counts: list[int]  # high-quality samples registered to each mode, length K
    num_modes: int  # K
    num_samples: int  # N
    reverse_kl: float  # KL(high-quality mode histogram || uniform), nats; log K without HQ samples


def mode_statistics(samples: Tensor, modes: Tensor, std: float, min_count: int = 20) -> ModeStats:
    """Count covered modes and the high-quality fraction of ``samples``.

    See the module docstring for the exact definitions and their sources.

    Args:
        samples: generated points, (N, D) (D = 2 for the toy benchmarks).
        modes: mixture means, (K, D).
        std: the (shared, isotropic) per-mode standard deviation.
        min_count: high-quality samples a mode needs to count as covered
            (1 = VEEGAN/PacGAN-code rule, 20 = "fewer than 20 of 2,500 = lost").
    """
    if samples.ndim != 2 or modes.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(
            f"mode_statistics expects samples (N, D) and modes (K, D) with the same D; "
            f"got samples {tuple(samples.shape)} and modes {tuple(modes.shape)}."
        )
    if len(samples) == 0 or len(modes) == 0:
        raise ValueError(f"mode_statistics needs at least one sample and one mode; got N={len(samples)}, K={len(modes)}.")
    if not std > 0:
        raise ValueError(f"mode_statistics: std must be > 0, got {std}.")
    if min_count < 1:
        raise ValueError(f"mode_statistics: min_count must be >= 1 (0 would call every mode covered), got {min_count}.")

    # float64 and the direct (non-matmul) distance: the matmul shortcut
    # ||x||^2 - 2<x, mu> + ||mu||^2 cancels badly when std << ||mu|| (0.02 vs 2),
    # which would move points across the 3-std boundary.
    x = samples.detach().to(torch.float64)
    mu = modes.detach().to(device=x.device, dtype=torch.float64)
    dist = torch.cdist(x, mu, compute_mode="donot_use_mm_for_euclid_dist")  # (N, K)
    nearest_dist, nearest = dist.min(dim=1)
    high_quality = nearest_dist < HIGH_QUALITY_STDS * std  # NaN samples compare False: not HQ
    counts = torch.bincount(nearest[high_quality], minlength=len(mu))
    return ModeStats(
        modes_covered=int((counts >= min_count).sum()),
        high_quality_fraction=float(high_quality.sum()) / len(x),
        mode_counts=[int(c) for c in counts.tolist()],
        num_modes=len(mu),
        num_samples=len(x),
        reverse_kl=reverse_kl(counts),
    )


def reverse_kl(counts: Tensor) -> float:
    """KL(p || uniform) in nats of the histogram ``counts`` (K,), p = counts / counts.sum().

    PacGAN's reverse KL (Lin et al. 2018, Table 1; see the module docstring). An empty
    histogram (no high-quality sample) gives log K, the worst value, not a good-looking 0.
    """
    k = len(counts)
    total = counts.sum()
    if total == 0:
        return math.log(k)
    p = counts.to(torch.float64) / total
    p = p[p > 0]  # 0 log 0 = 0
    return max(float((p * torch.log(p * k)).sum()), 0.0)  # >= 0; the max only removes -1e-17 rounding


def __getattr__(name: str):
    """``lit_gan.metrics.modes.ModeCoverage``, the class path saved configs name, now in
    lit_gan.callbacks.mode_coverage; imported on first use so metrics never load callbacks."""
    if name == "ModeCoverage":
        from lit_gan.callbacks.mode_coverage import ModeCoverage

        return ModeCoverage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
