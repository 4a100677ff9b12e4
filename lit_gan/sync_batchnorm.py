"""``--trainer.sync_batchnorm true`` where torch cannot run it: refused in one line.

torch's SyncBatchNorm all-reduces over CUDA (or XPU / HPU) devices only; DDP on CPU
processes (gloo) stops with a traceback ("SyncBatchNorm layers only work with GPU
modules") when the model is wrapped. One process never syncs, so it needs no check.
Sampling never syncs either (lit_gan.models.batch_stats).
"""

from __future__ import annotations

import lightning as L

from lit_gan.errors import UserError

SYNC_DEVICES = ("cuda", "xpu", "hpu")  # where torch.nn.SyncBatchNorm.forward may all-reduce


def check_sync_batchnorm(trainer: L.Trainer, sync_batchnorm: bool) -> None:
    device = trainer.strategy.root_device.type
    if sync_batchnorm and trainer.world_size > 1 and device not in SYNC_DEVICES:
        raise UserError(f"--trainer.sync_batchnorm true needs GPUs: torch's SyncBatchNorm runs on "
                        f"{'/'.join(SYNC_DEVICES)} devices only, and this run trains {trainer.world_size} "
                        f"{device} processes; drop it (each process then normalises with its own batch)")
