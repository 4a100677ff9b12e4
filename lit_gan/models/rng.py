"""Random-number state that a checkpoint must carry for an exact resume.

Lightning saves weights, optimizers, schedulers and loop counters but not the RNG, so
a resumed run would draw different noise than an uninterrupted one. Each DDP rank has
its own stream; all of them are saved so a resume on the same world size is exact.
States are stored as tensors and plain Python values only, so checkpoints still load
with ``torch.load(weights_only=True)`` (Lightning's default).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from lit_gan import distributed


def capture() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _numpy_state() -> tuple:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)


def restore(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def capture_all_ranks() -> list[dict[str, Any]]:
    """Every rank's state, gathered (a collective: call it on every rank)."""
    return distributed.all_gather_object(capture())


def restore_for_this_rank(states: list[dict[str, Any]]) -> bool:
    """Restore this rank's saved stream; False (nothing restored) if the world size changed."""
    rank, world = distributed.world()
    if len(states) != world:
        return False
    restore(states[rank])
    return True
