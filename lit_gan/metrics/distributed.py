"""The few collectives metrics need, written so 1 and K processes give the same numbers.

Work is split in contiguous shards (rank r gets items [n*r//K, n*(r+1)//K)), so gathering
in rank order restores the original order: metrics that depend on order (KID's random
subsets) then see the same data on any number of processes.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def world() -> tuple[int, int]:
    """(rank, world size); (0, 1) without an initialized process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(n: int, rank: int, world_size: int) -> range:
    """This rank's contiguous share of n items; sizes differ by at most one, none repeated."""
    return range(n * rank // world_size, n * (rank + 1) // world_size)


def _collective_device(t: Tensor) -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def gather_rows(t: Tensor) -> Tensor:
    """Concatenate every rank's rows (sizes may differ) in rank order, on every rank."""
    rank, size = world()
    if size == 1:
        return t
    device = _collective_device(t)
    local = t.to(device).contiguous()
    counts = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(size)]
    dist.all_gather(counts, torch.tensor([local.shape[0]], device=device))
    counts = [int(c.item()) for c in counts]
    padded = torch.zeros((max(counts), *local.shape[1:]), dtype=local.dtype, device=device)
    padded[: local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:c] for p, c in zip(parts, counts)]).to(t.device)
