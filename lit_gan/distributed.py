"""The one place that talks to torch.distributed: who am I, and how ranks agree.

The project's device and rank rules:
- every tensor is made on the device of the tensors it meets (a collective's on
  ``collective_device()``: NCCL moves only CUDA tensors);
- no code seeds or reads a global RNG stream it does not own (give it a ``torch.Generator``);
- every decision ranks must share (a cache hit, "the newest checkpoint", a stop) is made
  once, by rank 0, and broadcast (``rank_zero_decides``), or agreed by one collective
  (``any_rank`` / ``max_over_ranks``): node-local disks and rank-local losses differ;
- rank-0-only code runs no collective (the other ranks would wait for it forever).

Without an initialized process group every helper is the one-process identity.
Work is split in contiguous shards (``shard``), so gathering in rank order
(``gather_rows``) restores the original order on any number of processes.
"""

from __future__ import annotations

import pickle
from typing import Any, Callable, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor

T = TypeVar("T")


def initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def world() -> tuple[int, int]:
    """(rank, world size); (0, 1) without an initialized process group."""
    if initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def rank() -> int:
    return world()[0]


def world_size() -> int:
    return world()[1]


def shard(n: int, rank: int, world_size: int) -> range:
    """This rank's contiguous share of n items; sizes differ by at most one, none repeated."""
    return range(n * rank // world_size, n * (rank + 1) // world_size)


def collective_device() -> torch.device:
    """Where a collective's tensors must live: the current CUDA device under NCCL, else the CPU."""
    if initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def rank_zero_decides(decide: Callable[[], T]) -> T:
    """``decide()`` on rank 0 only, its (picklable) result on every rank. An exception raised
    by ``decide`` is raised on every rank, so none waits for a broadcast that never comes.
    ``decide`` must run no collective (only rank 0 runs it)."""
    if world_size() == 1:
        return decide()
    box: list[Any] = [None]
    if rank() == 0:
        try:
            box[0] = (True, decide())
        except Exception as err:  # noqa: BLE001 -- every rank must learn of it, then raise it
            box[0] = (False, err if _picklable(err) else RuntimeError(f"{type(err).__name__}: {err}"))
    dist.broadcast_object_list(box, src=0, device=collective_device())
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _picklable(obj: Any) -> bool:
    try:
        pickle.loads(pickle.dumps(obj))
    except Exception:  # noqa: BLE001 -- any failure means "send a plain copy instead"
        return False
    return True


def _all_reduced(t: Tensor, op: Any) -> Tensor:
    if world_size() == 1:
        return t
    reduced = t.detach().to(collective_device(), copy=True)
    dist.all_reduce(reduced, op=op)
    return reduced.to(t.device)


def max_over_ranks(t: Tensor) -> Tensor:
    """The elementwise maximum over ranks (one all-reduce), on ``t``'s device."""
    return _all_reduced(t, dist.ReduceOp.MAX)


def sum_over_ranks(t: Tensor) -> Tensor:
    """The elementwise sum over ranks (one all-reduce), on ``t``'s device."""
    return _all_reduced(t, dist.ReduceOp.SUM)


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any rank (one all-reduce)."""
    return bool(max_over_ranks(torch.tensor([int(flag)], device=collective_device())).item())


def all_ranks(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on all ranks (one all-reduce)."""
    return not any_rank(not flag)


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's picklable ``obj``, in rank order, on every rank; ``[obj]`` in one process."""
    if world_size() == 1:
        return [obj]
    gathered: list[Any] = [None] * world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def gather_rows(t: Tensor) -> Tensor:
    """Concatenate every rank's rows (sizes may differ) in rank order, on every rank."""
    _, size = world()
    if size == 1:
        return t
    device = collective_device()
    local = t.to(device).contiguous()
    counts = [torch.zeros(1, dtype=torch.long, device=device) for _ in range(size)]
    dist.all_gather(counts, torch.tensor([local.shape[0]], device=device))
    counts = [int(c.item()) for c in counts]
    padded = torch.zeros((max(counts), *local.shape[1:]), dtype=local.dtype, device=device)
    padded[: local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:c] for p, c in zip(parts, counts)]).to(t.device)


def close() -> None:
    """Tear the process group down once every rank got here (no-op without one)."""
    if initialized():
        dist.barrier()
        dist.destroy_process_group()
