"""The run's checkpoints: ``last.ckpt`` written when and how a resume from it is exact, on
SIGTERM / SIGINT too, atomically, and never with non-finite weights.

When ``last.ckpt`` is written (measured on Lightning 2.6; ``tests/test_resume.py``):
- at the end of every epoch, after the epoch's hooks (ModelCheckpoint's usual moment);
- at the end of the batch after which the run stops mid-epoch (``--max_iterations``,
  ``max_steps``, a signal), and with ``every_n_train_steps`` at those steps: Lightning
  restores such a batch-end checkpoint as a mid-epoch restart and, with the training loader's position in it (lit_gan.data.resumable), continues
  with the next batch of the same epoch. A batch-end checkpoint taken at the *last* batch of
  an epoch is restored by Lightning as one epoch too many, so a stop there waits for the
  epoch's end instead.
- On SIGTERM / SIGINT (lit_gan.callbacks.preemption) at the next such moment, after which the
  process exits with 128 + the signal number.

Non-finite weights are never written: the save raises ``Diverged`` and the previous file stays.
Files are written beside their name and renamed, so a kill mid-write leaves the old one whole.
Top-k files keep ModelCheckpoint's schedule; ``last.ckpt`` is the one to resume from.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint

from lit_gan.callbacks.preemption import Preempted, SignalFlag
from lit_gan.training.divergence import Diverged, first_non_finite_tensor


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint (same arguments) with the behaviour in the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signals = SignalFlag()

    # ---- signals ------------------------------------------------------------------
    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        self.signals.install(trainer)  # after Lightning's own SIGTERM handler, which it replaces

    def on_train_end(self, trainer, pl_module) -> None:
        self.signals.uninstall()
        super().on_train_end(trainer, pl_module)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self.signals.uninstall()
        super().on_exception(trainer, pl_module, exception)

    # ---- when -----------------------------------------------------------------------
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        signum = self.signals.agreed(trainer)  # every rank, every batch: one all-reduce under DDP
        if trainer.fit_loop.epoch_loop._num_ready_batches_reached():
            if signum:
                trainer.should_stop = True  # save at this epoch's end (below), then exit
            return
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)  # every_n_train_steps top-k
        if signum:
            self._preempt(trainer, pl_module, signum, self._save_for_signal(trainer))
        periodic = self._every_n_train_steps >= 1 and trainer.global_step % self._every_n_train_steps == 0
        if trainer.should_stop or periodic:  # a mid-epoch stop (TrainingLength...) or a periodic save
            self.save_last_now(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self.save_last_now(trainer)
        if self.signals.received:
            self._preempt(trainer, pl_module, self.signals.received, self._save_for_signal(trainer))

    def _preempt(self, trainer, pl_module, signum: int, path: str | None) -> None:
        iteration = getattr(pl_module, "iterations", trainer.global_step)
        if trainer.is_global_zero:
            print(f"lit_gan: stopped by {signal.Signals(signum).name} at iteration {iteration}; saved {path}; "
                  "continue with `fit --config ... --ckpt_path last`", file=sys.stderr, flush=True)
        raise Preempted(signum, path, iteration)

    # ---- what -----------------------------------------------------------------------
    def _save_for_signal(self, trainer) -> str:
        """The checkpoint of the state a signal interrupted: ``last.ckpt``, or with
        ``save_last`` off ``last-preempted.ckpt`` (``--ckpt_path last`` finds ``last*.ckpt``)."""
        if self.save_last:
            return self.save_last_now(trainer) or self.last_model_path
        path = os.path.join(self.dirpath, "last-preempted" + self.FILE_EXTENSION)
        self._save_checkpoint(trainer, path)
        return path

    def save_last_now(self, trainer) -> str | None:
        """Write ``last.ckpt`` for the current state unless it already holds it; its path."""
        if not self.save_last or self._skip_last(trainer):
            return None
        saved_step = self._last_global_step_saved  # a top-k save later this step must still happen
        self._writing_last = True
        try:
            super()._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        finally:
            self._writing_last = False
            self._last_global_step_saved = saved_step
        self._last_state = self._state(trainer)
        return self.last_model_path

    @staticmethod
    def _state(trainer) -> tuple[int, int]:
        # The batch position: after a mid-epoch stop the epoch's end must not overwrite the
        # batch-end checkpoint with an end-of-epoch one of the same weights.
        return trainer.global_step, trainer.fit_loop.epoch_loop.batch_progress.total.ready

    def _skip_last(self, trainer) -> bool:
        from lightning.pytorch.trainer.states import TrainerFn

        return (bool(trainer.fast_dev_run) or trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking
                or getattr(self, "_last_state", None) == self._state(trainer))

    def _save_last_checkpoint(self, trainer, monitor_candidates: dict[str, Any]) -> None:
        # ModelCheckpoint's own calls (validation end, train end) would write at other moments.
        if getattr(self, "_writing_last", False):
            super()._save_last_checkpoint(trainer, monitor_candidates)

    def _save_checkpoint(self, trainer, filepath: str) -> None:
        bad = first_non_finite_tensor(trainer.lightning_module.state_dict())
        if bad is not None:
            raise Diverged(
                f"not writing {filepath}: the weights are not finite ({bad}) at iteration "
                f"{getattr(trainer.lightning_module, 'iterations', '?')}; the previous checkpoint is kept"
            )
        path = Path(filepath)
        partial = str(path.with_name(f".{path.name}.partial"))
        super()._save_checkpoint(trainer, partial)  # every rank takes part; rank 0 writes
        if trainer.is_global_zero:
            os.replace(partial, filepath)
        trainer.strategy.barrier("RunCheckpoint._save_checkpoint")
        self._last_checkpoint_saved = filepath
