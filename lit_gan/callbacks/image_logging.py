"""Send a picture to whichever logger a run has (TensorBoard, wandb, or none)."""

from __future__ import annotations

import numpy as np
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger


def log_image(trainer, key: str, image: np.ndarray, step: int) -> None:
    """``image`` is uint8 (H, W, C). CSV loggers can't hold images: the PNG on disk is the record."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, image, step, dataformats="HWC")
        elif isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=[image], step=step)
