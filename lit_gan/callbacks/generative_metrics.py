"""FID / KID / IS / class coverage during training, logged under keys that say the protocol.

The metrics live in this callback, not in the LightningModule, so the feature extractor
(Inception: 95 MB) never lands in a checkpoint. All ranks take part (generation is
sharded, ``compute()`` syncs); each value is identical on every rank. Keys are
``<split>/<metric>_<n>``, e.g. ``val/fid_10k``; the full protocol card is written once to
``<run dir>/metrics_protocol.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import torch

from lit_gan.atomic import atomic_path
from lit_gan.evaluation.features import Evaluator, Protocol, sampling_card
from lit_gan.evaluation.real import real_images_and_labels
from lit_gan.evaluation.registry import SAMPLE_METRICS
from lit_gan.evaluation.run import feature_values
from lit_gan.evaluation.sources import GeneratorSource
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.inception import InceptionWeightsMissing, inception_problem
from lit_gan.metrics.reference_cache import ReferenceCache


class GenerativeMetrics(L.Callback):
    """Evaluate every ``every_n_epochs`` validation epochs and/or ``every_n_iterations``
    generator iterations, and once more at the end of training if the last evaluation was
    not of the final weights.

    Args:
        metrics: any feature metric of the registry (lit_gan.evaluation.registry): fid, kid,
            is, classes, prdc, and for class-conditional models accuracy and intra_fid (classes,
            accuracy and intra_fid need a classifier extractor).
        feature_extractor: "inception" or a saved feature module (.pt / .pt2), e.g. from
            ``python -m lit_gan train-classifier``.
        inception_weights: path of torch-fidelity's Inception weights file, if not in
            $TORCH_HOME/hub/checkpoints/.
        num_samples: generated images per evaluation (split over the ranks).
        num_real: real images (the first ones of ``split``); None = the whole split.
        split: the datamodule split compared against ("val" keeps test data for the end).
        every_n_epochs: at validation end every n epochs (0 = never).
        every_n_iterations: every n generator iterations (0 = never).
        seed: noise seed: sample i is the same in every evaluation and run.
        cache_dir: where real features are cached (default ~/.cache/lit_gan/reference).
    """

    def __init__(self, metrics: list[str] = ["fid", "kid"], feature_extractor: str = "inception",
                 inception_weights: str | None = None, num_samples: int = 10_000, num_real: int | None = None,
                 split: str = "val", every_n_epochs: int = 1, every_n_iterations: int = 0, seed: int = 0,
                 batch_size: int = 250, kid_subsets: int = 100, kid_subset_size: int = 1000,
                 cache_dir: str | None = None, progress: bool = True) -> None:
        if every_n_epochs < 0 or every_n_iterations < 0:
            raise ValueError("every_n_epochs and every_n_iterations must be >= 0")
        self.protocol = Protocol(list(metrics), num_samples, num_real, split, seed, batch_size, kid_subsets,
                                 kid_subset_size)
        own_pass = [m for m in self.protocol.metrics if m in SAMPLE_METRICS]
        if own_pass:
            raise ValueError(f"{', '.join(own_pass)}: `evaluate` metrics, not for this callback; use `python -m lit_gan "
                             f"evaluate --metrics {','.join(own_pass)}` on a checkpoint (ModeCoverage logs modes)")
        self.feature_extractor, self.inception_weights = feature_extractor, inception_weights
        self.every_n_epochs, self.every_n_iterations = every_n_epochs, every_n_iterations
        self.cache_dir, self.progress = cache_dir, progress
        self.evaluator: Evaluator | None = None
        self.real = self.real_labels = None
        self.label = ""
        self.last_iteration = -1

    # ---- set-up: fail before training, not after the first epoch --------------------
    def on_fit_start(self, trainer: L.Trainer, pl_module) -> None:
        self._prepare(trainer, pl_module)

    def _prepare(self, trainer: L.Trainer, pl_module) -> None:
        if self.evaluator is not None:
            return
        extractor = load_extractor(self.feature_extractor, pl_module.device, self._inception_weights(trainer))
        datamodule = trainer.datamodule
        if datamodule is None:
            raise ValueError("GenerativeMetrics reads real images from the datamodule; fit with a LightningDataModule")
        self.real, self.real_labels = real_images_and_labels(datamodule, self.protocol.split, self.protocol.num_real)
        self.label = f"{type(datamodule).__name__}-{self.protocol.split}-{len(self.real)}-{extractor.name}"
        self.evaluator = Evaluator(self.protocol, extractor, ReferenceCache(self.cache_dir),
                                   self.progress and trainer.is_global_zero)
        self.evaluator.reference(self.real, self.label)  # real features now: a cache miss costs once, up front
        log_dir = trainer.log_dir  # a collective under DDP: every rank asks
        if trainer.is_global_zero and log_dir:
            with atomic_path(Path(log_dir) / "metrics_protocol.json") as tmp:
                card = {**self.evaluator.card(self.real, self.label), "sampling": sampling_card(pl_module)}
                tmp.write_text(json.dumps(card, indent=2))

    def _inception_weights(self, trainer: L.Trainer) -> str | None:
        """Rank 0 finds (or downloads) the weights once; every rank gets the path or the error
        together, so no rank waits forever for one that failed."""
        if self.feature_extractor != "inception":
            return self.inception_weights
        found = error = None
        if trainer.is_global_zero:
            found, error = inception_problem(self.inception_weights)
        found, error = trainer.strategy.broadcast((found, error))
        if error is not None:
            raise InceptionWeightsMissing(error)
        return found

    def compute(self, trainer: L.Trainer, pl_module) -> dict[str, float]:
        """Evaluate the current generator (all ranks); keys prefixed with the split."""
        self._prepare(trainer, pl_module)
        self.last_iteration = pl_module.iterations
        source = GeneratorSource(pl_module, self.protocol.num_samples, self.protocol.seed)
        values = feature_values(self.evaluator, source, self.real, self.real_labels, self.label)
        return {f"{self.protocol.split}/{k}": float(v) for k, v in values.items()}

    # ---- schedule -------------------------------------------------------------------
    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        if trainer.state.fn != "fit":  # `validate`: every call evaluates
            pl_module.log_dict(self.compute(trainer, pl_module))
            return
        epoch = trainer.current_epoch + 1
        if self.every_n_epochs and epoch % self.every_n_epochs == 0 and pl_module.iterations != self.last_iteration:
            pl_module.log_dict(self.compute(trainer, pl_module))

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        it = pl_module.iterations
        if self.every_n_iterations and it and it % self.every_n_iterations == 0 and it != self.last_iteration:
            self._log_once(trainer, self.compute(trainer, pl_module), it)

    def on_train_end(self, trainer: L.Trainer, pl_module) -> None:
        if pl_module.iterations != self.last_iteration:
            self._log_once(trainer, self.compute(trainer, pl_module), pl_module.iterations)

    @staticmethod
    def _log_once(trainer: L.Trainer, values: dict[str, float], iteration: int) -> None:
        """Straight to the loggers: ``self.log`` in a training-batch hook would repeat the
        value on every later logging step of the epoch, and is forbidden in on_train_end.
        callback_metrics gets them too, so ModelCheckpoint can monitor e.g. val/fid_10k.
        The row carries ``train/iteration``: its step is an optimizer-step count (n_critic +
        n_gen per iteration), so a reader plotting against iterations needs no model hparams."""
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in values.items()})  # cpu: a logged scalar
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.log_metrics({**values, "train/iteration": float(iteration)}, step=trainer.global_step)
                logger.save()

    def state_dict(self) -> dict:
        return {"last_iteration": self.last_iteration}

    def load_state_dict(self, state_dict: dict) -> None:
        self.last_iteration = state_dict.get("last_iteration", -1)
