"""Checkpoints back into models and datamodules, with errors a user can act on: the one
place commands, ``reproduce`` and evaluation read a lit_gan checkpoint."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch

from lit_gan.errors import CommandError
from lit_gan.training.checkpoint_file import read_checkpoint
from lit_gan.training.divergence import first_non_finite_tensor

__all__ = ["CommandError", "load_model", "read_state", "checkpoint_datamodule", "datamodule_from_checkpoint",
           "instantiate", "resolve_device"]


def read_state(ckpt: str | Path) -> dict[str, Any]:
    """The checkpoint's dict, read as every checkpoint is (lit_gan.training.checkpoint_file): a
    missing, truncated or foreign file is one line (a CommandError) naming ``--ckpt``."""
    return read_checkpoint(ckpt, option="--ckpt")


def load_model(ckpt: str | Path, device: str = "cpu"):
    """The LightningModule a checkpoint holds, in eval mode on ``device``."""
    path = Path(ckpt)
    state = read_state(path)
    meta = state.get("lit_gan")
    if not meta or "model_class" not in meta:
        raise CommandError(f"{path} was not written by lit_gan (no 'lit_gan' entry); train with `python -m lit_gan fit`")
    bad = first_non_finite_tensor(state.get("state_dict", {}))
    if bad is not None:  # checkpoints of older versions could hold the weights of a diverged run
        raise CommandError(f"{path} holds non-finite weights ({bad} has NaN or inf): the run diverged before it "
                           "was saved; use an earlier checkpoint of the run")
    module_name, _, class_name = meta["model_class"].rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise CommandError(f"{path} needs model class {meta['model_class']}, which this lit_gan does not have") from None
    model = cls.load_from_checkpoint(path, map_location=device, weights_only=False)
    return model.to(device).eval()


def checkpoint_datamodule(ckpt: str | Path) -> dict[str, Any] | None:
    """``{"class_path", "init_args"}`` of the run's datamodule, as saved in the checkpoint."""
    state = read_state(ckpt)
    saved = (state.get("lit_gan") or {}).get("datamodule")
    if saved is None and "_class_path" in state.get("datamodule_hyper_parameters", {}):
        # LightningCLI's own record (checkpoints of lit_gan 0.1 before "datamodule" was saved)
        saved = {"class_path": state["datamodule_hyper_parameters"]["_class_path"],
                 "init_args": state["datamodule_hyper_parameters"]}
    if saved is not None:  # LightningCLI records its own keys (_class_path, _instantiator) in init_args
        saved = {**saved, "init_args": {k: v for k, v in (saved.get("init_args") or {}).items()
                                        if not k.startswith("_")}}
    return saved


def instantiate(spec: dict[str, Any]):
    """An object from ``{"class_path": ..., "init_args": {...}}``."""
    module, _, name = spec["class_path"].rpartition(".")
    return getattr(importlib.import_module(module), name)(**spec.get("init_args", {}))


def datamodule_from_checkpoint(ckpt: str | Path):
    spec = checkpoint_datamodule(ckpt)
    if spec is None:
        raise CommandError(f"{ckpt} does not record its datamodule; train it with `python -m lit_gan fit`")
    return instantiate(spec)


def resolve_device(device: str | None) -> str:
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    return device
