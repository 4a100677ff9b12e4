"""Check that DDP ranks hold identical weights (they must: DDP all-reduces gradients).

A divergence means something rank-local leaked into an update: an op outside DDP's
reducer, a rank-dependent branch, or a lost all-reduce. Cheap: one float32 checksum
per parameter tensor, gathered once per epoch.

No float64 (Apple GPUs have none). A float32 sum is deterministic for identical weights,
but a change below its rounding (~1e-7 of the sum) vanishes in it: a one-in-a-million
nudge of one DCGAN weight did. So "bit-identical" (atol=0) compares a fingerprint of the
bits instead: the int64 sum of the float32 bit patterns, exact and independent of the
order of the reduction; any single changed weight changes it. The float32 checksums give
the size of a difference, which is what a nonzero atol bounds.
"""

from __future__ import annotations

import lightning as L
import torch


def parameter_checksums(module: torch.nn.Module) -> torch.Tensor:
    """One float32 number per parameter tensor, on its device: sum and sum of squares mixed."""
    sums = [p.detach().float().sum() + 1e-3 * (p.detach().float() ** 2).sum() for p in module.parameters()]
    return torch.stack(sums) if sums else torch.zeros(0)  # cpu: no parameters: an empty result


def parameter_fingerprints(module: torch.nn.Module) -> torch.Tensor:
    """One int64 per parameter tensor: the exact sum of its float32 bit patterns."""
    sums = [p.detach().float().view(torch.int32).to(torch.int64).sum() for p in module.parameters()]
    return torch.stack(sums) if sums else torch.zeros(0, dtype=torch.int64)  # cpu: no parameters: an empty result


def _gather(pl_module, local: torch.Tensor) -> torch.Tensor:
    gathered = pl_module.all_gather(local.to(pl_module.device))  # (world, P) under DDP, (P,) on one device
    return gathered.unsqueeze(0) if gathered.dim() == 1 else gathered


class RankSyncCheck(L.Callback):
    def __init__(self, atol: float = 0.0) -> None:
        """atol: allowed absolute difference of checksums (0 = bit-identical)."""
        self.atol = atol
        self.max_difference: float | None = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        gathered = _gather(pl_module, parameter_checksums(pl_module))
        bits = _gather(pl_module, parameter_fingerprints(pl_module))
        self.max_difference = float((gathered - gathered[0]).abs().max()) if gathered.numel() else 0.0
        pl_module.log("train/rank_param_max_diff", self.max_difference, rank_zero_only=True)
        if self.max_difference > self.atol or (self.atol == 0 and not torch.equal(bits, bits[0].expand_as(bits))):
            raise RuntimeError(
                f"DDP ranks diverged: parameter bits differ, checksums by {self.max_difference:.3e} "
                f"(epoch {trainer.current_epoch}); see lit_gan.callbacks.rank_sync for likely causes"
            )
        if trainer.is_global_zero:
            print(f"RankSyncCheck: {gathered.shape[0]} ranks identical (max diff {self.max_difference:.1e})", flush=True)
