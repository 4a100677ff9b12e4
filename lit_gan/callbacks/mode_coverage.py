"""The mode-coverage callback: ``lit_gan.metrics.modes``' numbers on the 2-D toy mixtures,
logged every validation epoch (and for the final weights)."""

from __future__ import annotations

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from lit_gan.evaluation.sampling import all_samples, is_sampler
from lit_gan.metrics.modes import ModeStats, mode_statistics


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
