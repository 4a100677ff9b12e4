"""Which checkpoint ``--ckpt_path last`` means, and a readable refusal of a damaged one."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from lit_gan.errors import UserError


def newest_checkpoint(run_root: Path) -> Path | None:
    """The most recently written ``last*.ckpt`` under ``run_root/<version>/checkpoints/``: the
    newest run of the experiment, including a checkpoint that a signal just saved."""
    candidates = [p for p in run_root.glob("*/checkpoints/last*.ckpt") if p.is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's contents, memory-mapped; a damaged or foreign file is a one-line UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--ckpt_path {path}: no such checkpoint file")
    try:
        try:
            state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
        except pickle.UnpicklingError as err:
            if "weights only" not in str(err).lower():
                raise
            # a whole file holding a type outside torch's allow-list (older hyperparameters): it
            # is the user's own checkpoint, as Lightning itself would load it
            state = torch.load(path, map_location="cpu", mmap=True, weights_only=False)
    except Exception as err:  # noqa: BLE001 -- a truncated zip, a pickle error, a foreign format...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(
            f"{path} is not a readable checkpoint (truncated or damaged? {type(err).__name__}: {first_line[:200]}); "
            "resume from another one with --ckpt_path PATH"
        ) from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise UserError(f"{path} is not a Lightning checkpoint (no state_dict); pass a file that `fit` wrote")
    return state


def describe(state: dict[str, Any]) -> str:
    """'iteration 1200, epoch 3, global step 2400' for the resume message."""
    iterations = (state.get("lit_gan") or {}).get("iterations")
    parts = [f"iteration {iterations}"] if iterations is not None else []
    return ", ".join(parts + [f"epoch {state.get('epoch', '?')}", f"global step {state.get('global_step', '?')}"])
