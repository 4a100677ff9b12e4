"""Which checkpoint ``--ckpt_path last`` means, and what the resume message says of it (files are read
by lit_gan.training.checkpoint_file, whose ``read_checkpoint`` is re-exported here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from lit_gan import distributed
from lit_gan.launch import launched_processes
from lit_gan.training.checkpoint_file import read_checkpoint

__all__ = ["agreed_newest_checkpoint", "describe", "newest_checkpoint", "read_checkpoint"]

LAST_ENV = "LIT_GAN_CKPT_LAST"  # "<pid>:<path>": rank 0's pick, for the ranks its DDP launcher starts


def newest_checkpoint(run_root: Path) -> Path | None:
    """The most recently written ``last*.ckpt`` under ``run_root/<version>/checkpoints/``: the
    newest run of the experiment, including a checkpoint that a signal just saved."""
    candidates = [p for p in run_root.glob("*/checkpoints/last*.ckpt") if p.is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def agreed_newest_checkpoint(run_root: Path, processes: int,
                             start_group: Callable[[], None] | None = None) -> Path | None:
    """``newest_checkpoint`` as rank 0 sees it, on every one of ``processes`` ranks: ranks that
    look alone may see different files (node-local disks, a checkpoint written between looks).

    The CLI picks before ``trainer.fit``, where Lightning has not started its process group yet:
    - torchrun / srun started every rank: ``start_group`` (the strategy's own set-up, which
      Lightning skips later for a started group) begins it, and rank 0 broadcasts its pick;
    - Lightning's DDP launcher: this process is rank 0 and starts the others inside ``fit``; it
      picks now and they inherit the pick through the environment (``LAST_ENV``). Several nodes
      started by hand (neither torchrun nor srun) then pick once per node: use a shared disk.
    """
    if processes == 1:
        return newest_checkpoint(run_root)
    parent, _, inherited = os.environ.get(LAST_ENV, "").partition(":")
    if parent == str(os.getppid()):  # started by rank 0's launcher, which picked before starting us
        return Path(inherited) if inherited else None
    if not distributed.initialized() and start_group is not None and launched_processes() is not None:
        start_group()
    if distributed.initialized():
        return distributed.rank_zero_decides(lambda: newest_checkpoint(run_root))
    found = newest_checkpoint(run_root)  # rank 0, before it starts the other ranks
    os.environ[LAST_ENV] = f"{os.getpid()}:{found or ''}"
    return found


def describe(state: dict[str, Any]) -> str:
    """'iteration 1200, epoch 3, global step 2400' for the resume message."""
    iterations = (state.get("lit_gan") or {}).get("iterations")
    parts = [f"iteration {iterations}"] if iterations is not None else []
    return ", ".join(parts + [f"epoch {state.get('epoch', '?')}", f"global step {state.get('global_step', '?')}"])
