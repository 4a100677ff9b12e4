"""``--divergence.*``: how a run reacts to a non-finite or exploding update
(lit_gan.training.divergence does the checking inside the training step)."""

from __future__ import annotations

from typing import Literal

import lightning as L

from lit_gan.errors import UserError
from lit_gan.training.divergence import DivergencePolicy


class DivergenceGuard(L.Callback):
    def __init__(self, action: Literal["stop", "skip"] = "stop", max_loss: float | None = None,
                 max_skips: int = 100) -> None:
        """
        Args:
            action: ``stop`` (default): a non-finite loss or gradient ends the run with a message
                and exit code 3, before any checkpoint holds the bad weights; ``skip``: drop that
                optimizer step and go on (counted in ``train/skipped_steps``).
            max_loss: also treat a finite loss above this as divergence (null: no bound).
            max_skips: under ``skip``, stop (exit code 3) once this many updates of one net in a
                row were skipped: that net no longer trains. A good update resets the count.
        """
        try:
            self.policy = DivergencePolicy(action, max_loss, max_skips)
        except ValueError as err:  # a bad --divergence.* setting: one line, exit code 2
            raise UserError("--" + str(err).replace("divergence ", "divergence.", 1)) from None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if hasattr(pl_module, "divergence_policy"):
            pl_module.divergence_policy = self.policy
