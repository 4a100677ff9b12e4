"""Check that DDP ranks hold identical weights (they must: DDP all-reduces gradients).

A divergence means something rank-local leaked into an update: an op outside DDP's
reducer, a rank-dependent branch, or a lost all-reduce. Cheap: one float64 checksum
per parameter tensor, gathered once per epoch.
"""

from __future__ import annotations

import lightning as L
import torch


def parameter_checksums(module: torch.nn.Module) -> torch.Tensor:
    """One float64 number per parameter tensor: sum and sum of squares mixed by index."""
    sums = [p.detach().double().sum() + 1e-3 * (p.detach().double() ** 2).sum() for p in module.parameters()]
    return torch.stack(sums) if sums else torch.zeros(0, dtype=torch.float64)


class RankSyncCheck(L.Callback):
    def __init__(self, atol: float = 0.0) -> None:
        """atol: allowed absolute difference of checksums (0 = bit-identical)."""
        self.atol = atol
        self.max_difference: float | None = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        local = parameter_checksums(pl_module).to(pl_module.device)
        gathered = pl_module.all_gather(local)  # (world, P) under DDP, (P,) on one device
        if gathered.dim() == 1:
            gathered = gathered.unsqueeze(0)
        self.max_difference = float((gathered - gathered[0]).abs().max()) if gathered.numel() else 0.0
        pl_module.log("train/rank_param_max_diff", self.max_difference, rank_zero_only=True)
        if self.max_difference > self.atol:
            raise RuntimeError(
                f"DDP ranks diverged: parameter checksums differ by {self.max_difference:.3e} "
                f"(epoch {trainer.current_epoch}); see lit_gan.callbacks.rank_sync for likely causes"
            )
        if trainer.is_global_zero:
            print(f"RankSyncCheck: {gathered.shape[0]} ranks identical (max diff {self.max_difference:.1e})", flush=True)
