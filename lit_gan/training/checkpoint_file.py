"""The one place lit_gan opens a checkpoint file, and the one policy for files it cannot use.

- weights only first (torch's safe loader), then the full unpickler for a file holding a type
  outside torch's allow-list (older hyperparameters): it is the user's own checkpoint, loaded as
  Lightning itself would load it;
- memory-mapped on the CPU: reading a few entries of a large checkpoint does not copy its weights;
- a missing, truncated, damaged or foreign file is one line (``CheckpointError``, exit 2) naming
  the file and what to pass instead, never a pickle or zip traceback.

``fit --ckpt_path`` (lit_gan.cli), ``generate`` / ``evaluate`` / ``translate`` and ``reproduce``
(lit_gan.evaluation.checkpoints) all read through ``read_checkpoint``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from lit_gan.errors import CommandError

SAVED_AS = "runs save them as runs/<name>/version_<k>/checkpoints/last.ckpt"


class CheckpointError(CommandError):
    """A checkpoint file that cannot be used: printed as one line, exit code 2."""


def read_checkpoint(path: str | Path, option: str = "--ckpt_path") -> dict[str, Any]:
    """The checkpoint's dict; ``option`` (the flag that named the file) goes into the errors' advice."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{option} {path}: no such checkpoint file ({SAVED_AS})")
    try:
        state = _load(path)
    except Exception as err:  # noqa: BLE001 -- a truncated zip, a pickle error, a foreign format...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or damaged? {type(err).__name__}: "
                              f"{first_line[:200]}); pass another one with {option} PATH") from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise CheckpointError(f"{path} was not written by lit_gan (no state_dict in it); pass a checkpoint that "
                              "`python -m lit_gan fit` wrote")
    return state


def _load(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only" not in str(err).lower():
            raise
        return torch.load(path, map_location="cpu", mmap=True, weights_only=False)
