"""Load a lit_gan checkpoint back into its model class, with errors a user can act on."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from lit_gan.models.adversarial import AdversarialModel
from lit_gan.training.divergence import first_non_finite_tensor


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit code 2."""


def load_model(ckpt: str | Path, device: str = "cpu") -> AdversarialModel:
    path = Path(ckpt)
    if not path.is_file():
        raise CommandError(f"checkpoint not found: {path} (runs save them as runs/<name>/version_<k>/checkpoints/last.ckpt)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file: say so instead of a pickle traceback
        raise CommandError(f"{path} is not a readable PyTorch checkpoint ({type(err).__name__}: {err})") from None
    meta = state.get("lit_gan") if isinstance(state, dict) else None
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


def resolve_device(device: str | None) -> str:
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    return device
