"""SIGTERM / SIGINT during training: a flag that every rank agrees on, and the exit that follows.

Cluster schedulers, ``docker stop`` and Kubernetes send SIGTERM before killing a job; Ctrl+C
sends SIGINT. Lightning alone saves nothing outside SLURM and exits 0, which a scheduler reads
as success. Here the signal only sets a flag; ``RunCheckpoint`` asks for it after every training
batch (all ranks agree through one all-reduce of the flag under DDP), saves a checkpoint that
resumes exactly, and raises ``Preempted`` on every rank: exit code 143 for SIGTERM, 130 for
SIGINT, the shell's convention for "ended by a signal", so schedulers count the run as
interrupted, not finished. A second Ctrl+C stops at once without saving.

Under SLURM with Lightning's auto-requeue, SIGTERM is left to Lightning, which saves an
``hpc_ckpt_*.ckpt`` on the requeue signal and resumes from it, as Lightning documents.
"""

from __future__ import annotations

import signal
import sys
import threading

import torch
from lightning.fabric.plugins.environments import SLURMEnvironment


class Preempted(SystemExit):
    """Raised on every rank once the checkpoint is written; exits with ``128 + signum``."""

    def __init__(self, signum: int, checkpoint: str | None, iteration: int) -> None:
        super().__init__(128 + signum)
        self.signum, self.checkpoint, self.iteration = signum, checkpoint, iteration


class SignalFlag:
    """Remembers SIGTERM / SIGINT while installed instead of letting them kill the process."""

    def __init__(self) -> None:
        self.received = 0
        self._previous: dict[int, object] = {}

    def install(self, trainer) -> None:
        self.received = 0
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only
        env = trainer._accelerator_connector.cluster_environment
        slurm_requeue = isinstance(env, SLURMEnvironment) and env.auto_requeue
        for signum in (signal.SIGINT,) if slurm_requeue else (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        """Put back the handlers we replaced (before Lightning's teardown restores its originals)."""
        if threading.current_thread() is threading.main_thread():
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame) -> None:
        if self.received and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl+C: stop now, without a checkpoint
        self.received = signum
        print(f"lit_gan: received {signal.Signals(signum).name}; saving a checkpoint after this batch, then "
              "exiting (Ctrl+C again to stop at once)", file=sys.stderr, flush=True)

    def agreed(self, trainer) -> int:
        """The signal any rank received (0: none); a collective under DDP, so call it on every rank."""
        if trainer.world_size == 1:
            return self.received
        flag = torch.tensor([float(self.received)], device=trainer.strategy.root_device)
        self.received = int(trainer.strategy.reduce(flag, reduce_op="max").item())
        return self.received
