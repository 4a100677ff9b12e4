"""Base for callbacks that write a picture every N generator iterations and at the end."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from lit_gan.atomic import atomic_path
from lit_gan.callbacks.image_logging import log_image, scalar_step
from lit_gan.conversion import to_uint8


def to_uint8_grid(images: torch.Tensor, nrow: int) -> np.ndarray:
    """Images in [-1, 1] (N, C, H, W) -> one uint8 (H, W, 3) grid (clamped, then rounded)."""
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, padding=2, pad_value=1.0)  # 1 channel -> 3
    return to_uint8(grid).permute(1, 2, 0).numpy()


def save_png(array: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(tmp, format="PNG")


class PeriodicPicture(L.Callback):
    """Calls ``render`` every ``every_n_iterations`` generator iterations (0 = only at the
    end of fit), on global rank 0, writes ``<run dir>/<folder>/iter_XXXXXXX.png`` and sends
    it to the run's image-capable loggers under ``key``."""

    folder = "pictures"
    key = "pictures"

    def __init__(self, every_n_iterations: int) -> None:
        if every_n_iterations < 0:
            raise ValueError(f"every_n_iterations must be >= 0, got {every_n_iterations}")
        self.every_n_iterations = every_n_iterations
        self._last_written = -1

    def render(self, trainer: L.Trainer, pl_module, path: Path) -> bool:
        """Write the picture to ``path``; return False when there is nothing to draw."""
        raise NotImplementedError

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        it = pl_module.iterations
        if self.every_n_iterations and it and it % self.every_n_iterations == 0 and it != self._last_written:
            self.write(trainer, pl_module, scalar_step(trainer))

    def on_train_end(self, trainer, pl_module) -> None:
        if pl_module.iterations != self._last_written:
            # the loop has counted the last batch by now: its scalars sit one step back
            self.write(trainer, pl_module, max(scalar_step(trainer) - 1, 0))

    def write(self, trainer: L.Trainer, pl_module, step: int) -> Path | None:
        """``step``: the logger step of the batch that produced this model state, so the
        picture sits beside that batch's scalars in TensorBoard / wandb."""
        self._last_written = pl_module.iterations
        log_dir = trainer.log_dir  # a broadcast under DDP: every rank must ask
        if not trainer.is_global_zero:
            return None
        path = Path(log_dir or trainer.default_root_dir) / self.folder / f"iter_{pl_module.iterations:07d}.png"
        if not self.render(trainer, pl_module, path):
            return None
        log_image(trainer, self.key, np.asarray(Image.open(path).convert("RGB")), step)
        return path
