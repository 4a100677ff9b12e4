"""``--max_iterations`` and ``trainer.max_steps`` as a stop request instead of Lightning's limit.

With ``max_steps`` set, Lightning restores every checkpoint as a restart inside an epoch and
miscounts an epoch-end one (measured on Lightning 2.6: 2 epochs + ``--ckpt_path last`` + 2 more
trained 3; a run stopped mid-epoch continued on the wrong epoch's data order). So the CLI takes
both limits over: Lightning's ``max_steps`` becomes -1 and this callback sets
``trainer.should_stop`` after the batch that reaches either limit. Lightning then validates
(a stop request triggers a final validation), ends the epoch early, and ``RunCheckpoint``
writes ``last.ckpt`` as a mid-epoch checkpoint that resumes exactly.

``max_iterations`` counts generator iterations (``pl_module.iterations``); ``max_steps``
counts optimizer steps (``trainer.global_step``), as Lightning's would.
"""

from __future__ import annotations

import lightning as L


class TrainingLength(L.Callback):
    def __init__(self, max_iterations: int | None = None, max_steps: int | None = None) -> None:
        for name, value in (("max_iterations", max_iterations), ("max_steps", max_steps)):
            if value is not None and value <= 0:
                raise ValueError(f"--{name} must be positive, got {value}")
        self.max_iterations, self.max_steps = max_iterations, max_steps

    def reached(self, trainer: L.Trainer, pl_module: L.LightningModule) -> bool:
        iterations = getattr(pl_module, "iterations", None)
        return bool((self.max_iterations is not None and iterations is not None and iterations >= self.max_iterations)
                    or (self.max_steps is not None and trainer.global_step >= self.max_steps))

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.reached(trainer, pl_module):  # resumed at or past the limit: nothing to train
            trainer.should_stop = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.reached(trainer, pl_module):
            trainer.should_stop = True
