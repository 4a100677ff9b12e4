"""Send a picture to whichever logger a run has (TensorBoard, wandb, or none), on the
step axis of the run's scalars."""

from __future__ import annotations

import numpy as np
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger


def scalar_step(trainer) -> int:
    """The step at which Lightning logs this training batch's scalars.

    Lightning 2.6's logger connector (and its LearningRateMonitor) log at the fit loop's
    ``_batches_that_stepped``, one per training batch, not at ``trainer.global_step``,
    which counts optimizer steps (2 or more per GAN iteration). During
    ``on_train_batch_end`` it is not yet incremented, so it is the current batch's step.
    """
    return trainer.fit_loop.epoch_loop._batches_that_stepped


def log_image(trainer, key: str, image: np.ndarray, step: int) -> None:
    """``image`` is uint8 (H, W, C). CSV loggers can't hold images: the PNG on disk is the record."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, image, step, dataformats="HWC")
        elif isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=[image], step=step)
