"""Sees every float64 tensor an op makes: Apple GPUs (MPS) have no float64, so code that runs
on a module's device must not make one, however it asks (.double(), .to(float64), dtype=)."""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class Float64Ops(TorchDispatchMode):
    """``with Float64Ops() as seen:`` ... ``seen.ops`` lists the ops whose outputs were float64."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if any(isinstance(t, torch.Tensor) and t.dtype == torch.float64 for t in tree_leaves(out)):
            self.ops.append(str(func))
        return out
