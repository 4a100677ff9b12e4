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

Both papers draw 2,500 samples per evaluation: ``ModeCoverage``'s default.
"""

from __future__ import annotations

import math
from typing import TypedDict

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
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


class ModeCoverage(Callback):
    """Log ``val/modes_covered``, ``val/high_quality_fraction`` and ``val/mode_reverse_kl``
    (``reverse_kl`` of ``mode_statistics``) each validation epoch.

    Draws samples 0..``num_samples``-1 of ``seed`` (lit_gan.evaluation.sampling) every
    time: the same noise each epoch, so the
    numbers of different epochs (and runs) differ only because the generator did.
    Reads the true modes from ``trainer.datamodule.modes`` / ``.mode_std``, i.e. it
    works with ``Toy2DDataModule``. ``trainer.test`` logs the same under ``test/``.

    With ``at_end`` (default) the final weights are scored too: a fit whose last batch is
    not followed by a validation (Lightning's ``max_steps`` stopping mid-epoch,
    ``check_val_every_n_epoch > 1``) gets one more ``val/`` row at the end, at the step of
    its last training batch, so ``metrics.csv`` always ends with the numbers of the final
    weights. It goes to the loggers and ``trainer.callback_metrics`` (a ModelCheckpoint
    monitor does not see it: no checkpoint is saved after it). A stop request
    (``trainer.should_stop``) makes Lightning validate after the last batch by itself;
    then nothing is added.
    """

    def __init__(self, num_samples: int = 2500, min_count: int = 20, seed: int = 0, at_end: bool = True) -> None:
        if num_samples < 1 or min_count < 1:
            raise ValueError(f"ModeCoverage: num_samples ({num_samples}) and min_count ({min_count}) must be >= 1.")
        if min_count > num_samples:
            raise ValueError(f"ModeCoverage: min_count ({min_count}) > num_samples ({num_samples}) can never cover a mode.")
        self.num_samples = num_samples
        self.min_count = min_count
        self.seed = seed
        self.at_end = at_end
        self._validated_step: int | None = None  # global_step of this fit's latest validation

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._validated_step = None

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:  # an untrained G: numbers nobody should read
            return
        self._log(trainer, pl_module, prefix="val")
        self._validated_step = trainer.global_step

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Score the final weights unless a validation just did (see the class docstring)."""
        if not self.at_end or self._validated_step == trainer.global_step:
            return
        stats = self.compute(trainer, pl_module)
        metrics = {f"val/{name}": value for name, value in _logged(stats)}
        # ``self.log`` is not allowed in on_train_end. Lightning logs a validation that
        # follows training batch k (0-based, counted over the whole run) at step k, the
        # step of that batch's own train row; after the last batch its counter is k + 1.
        batches = getattr(trainer.fit_loop.epoch_loop, "_batches_that_stepped", None)
        step = batches - 1 if isinstance(batches, int) and batches > 0 else trainer.global_step
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in metrics.items()})  # cpu: a logged scalar
        for logger in trainer.loggers:  # Lightning's loggers write on global rank 0 only
            logger.log_metrics(metrics, step=step)
            logger.save()
        self._validated_step = trainer.global_step

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._log(trainer, pl_module, prefix="test")

    def compute(self, trainer: Trainer, pl_module: LightningModule) -> ModeStats:
        """Sample from ``pl_module`` with the fixed seed and score it against the datamodule's modes."""
        datamodule = getattr(trainer, "datamodule", None)
        modes = getattr(datamodule, "modes", None)
        std = getattr(datamodule, "mode_std", None)
        if modes is None or std is None:
            raise RuntimeError(
                "ModeCoverage is for Toy2DDataModule (lit_gan.data.toy): it reads the true modes from "
                f"trainer.datamodule.modes and .mode_std, but the datamodule is {type(datamodule).__name__}. "
                "Remove the callback for other data, or pass a Toy2DDataModule via `datamodule=`."
            )
        from lit_gan.evaluation.sampling import all_samples, is_sampler

        if not is_sampler(pl_module):
            raise TypeError(f"ModeCoverage needs a model that samples from noise (noise / generate); "
                            f"{type(pl_module).__name__} does not")
        # samples 0..num_samples-1 of ``seed``, drawn on the CPU: the same on any device
        return mode_statistics(all_samples(pl_module, self.num_samples, self.seed), modes, std, self.min_count)

    def _log(self, trainer: Trainer, pl_module: LightningModule, prefix: str) -> None:
        stats = self.compute(trainer, pl_module)
        # Every rank draws the same samples from the same seed and gets the same
        # numbers, so no all-reduce is needed (sync_dist=False), and every rank logs
        # (rank_zero_only=False) so checkpoint monitors see the key on all ranks.
        for name, value in _logged(stats):
            pl_module.log(f"{prefix}/{name}", value, sync_dist=False, rank_zero_only=False)


def _logged(stats: ModeStats) -> tuple[tuple[str, float], ...]:
    """The (name, value) pairs ModeCoverage logs under ``val/`` or ``test/``."""
    return (
        ("modes_covered", float(stats["modes_covered"])),
        ("high_quality_fraction", stats["high_quality_fraction"]),
        ("mode_reverse_kl", stats["reverse_kl"]),
    )
