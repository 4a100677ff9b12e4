"""No empty ``version_k`` folder after a fit that fails before its first step.

CSVLogger and TensorBoardLogger create ``<save_dir>/<name>/version_k/`` before the data is
set up, so a fit that stopped on missing data used to leave an empty folder behind (and
the next run became ``version_k+1``). On such a failure, global rank 0 removes the folder,
but only when all of these hold:

- the fit failed before its first optimizer step (``global_step == 0``);
- the folder did not exist when the Trainer was built (this run created it);
- it holds nothing but what a starting run writes: the logger's ``hparams.yaml``, an
  empty ``metrics.csv``, TensorBoard event files, and ``config.yaml`` only if this run's
  SaveConfigCallback wrote it; any other file (a checkpoint, a sample) keeps it.

``<save_dir>/<name>/`` and ``<save_dir>`` go too when this run created them and they are
left empty (``os.rmdir`` removes nothing else). Other loggers (wandb) are left alone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import lightning as L
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.trainer.states import TrainerFn

EVENTS_PREFIX = "events.out.tfevents."


class RunDirCleanup(L.Callback):
    def __init__(self) -> None:
        self._existed: dict[Path, bool] = {}  # folder -> did it exist before this run
        self._versions_before: set[str] = set()

    @classmethod
    def attach(cls, trainer: L.Trainer) -> RunDirCleanup:
        """Note which folders exist now (before the logger picks its version) and add the
        callback last, so it sees whatever a checkpoint-on-exception wrote first."""
        callback = cls()
        logger = trainer.logger
        if isinstance(logger, (CSVLogger, TensorBoardLogger)):
            root = Path(logger.root_dir)  # <save_dir>/<name>; does not fix the version yet
            callback._existed = {p: p.exists() for p in (root, root.parent)}
            callback._versions_before = set(os.listdir(root)) if root.is_dir() else set()
        trainer.callbacks.append(callback)
        return callback

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        logger = trainer.logger
        if (not self._existed or not trainer.is_global_zero or trainer.state.fn != TrainerFn.FITTING
                or trainer.global_step > 0 or not isinstance(logger, (CSVLogger, TensorBoardLogger))):
            return
        folder = Path(logger.log_dir)
        if not folder.is_dir() or folder.name in self._versions_before or folder.parent not in self._existed:
            return
        if _pending_rows(logger) or not holds_only_startup_files(folder, config_is_ours=_config_saved(trainer)):
            return
        shutil.rmtree(folder)
        for parent, existed in self._existed.items():  # <save_dir>/<name>, then <save_dir>
            if not existed and parent.is_dir() and not any(parent.iterdir()):
                os.rmdir(parent)


def holds_only_startup_files(folder: Path, config_is_ours: bool) -> bool:
    for path in folder.rglob("*"):
        if path.is_dir():
            continue
        name = path.name
        if name.startswith(EVENTS_PREFIX) or name == "hparams.yaml":
            continue
        if name == "metrics.csv" and len(path.read_text().splitlines()) <= 1:  # a header, no rows
            continue
        if name == "config.yaml" and config_is_ours:
            continue
        return False
    return True


def _config_saved(trainer: L.Trainer) -> bool:
    return any(isinstance(cb, SaveConfigCallback) and cb.already_saved for cb in trainer.callbacks)


def _pending_rows(logger) -> bool:
    """CSVLogger writes buffered rows on finalize, after this hook: never under a removed folder."""
    experiment = getattr(logger, "_experiment", None)
    return bool(getattr(experiment, "metrics", None))
