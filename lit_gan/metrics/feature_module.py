"""Saved feature extractors: a module file any lit_gan metric can use instead of Inception.

The contract (what ``--feature-extractor PATH`` accepts):

- a TorchScript file (``.pt``, ``torch.jit.save``) or a ``torch.export`` archive (``.pt2``);
- its forward takes float images in [-1, 1], shape (N, C, H, W), and returns either
  features (N, D) or a tuple (features (N, D), class logits (N, K)); logits enable the
  ``is`` and ``classes`` metrics;
- optionally an extra file ``lit_gan_extractor.json`` in the archive describing it:
  ``input_shape`` [C, H, W] (images of another size are resized to it), ``num_classes``,
  ``class_names``, ``feature_dim``, and anything else worth printing (dataset, accuracy).

``save_feature_module`` writes such a file (atomically) from any ``nn.Module``;
``load_feature_module`` reads either format back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lit_gan.atomic import atomic_path

META_FILE = "lit_gan_extractor.json"
FORMATS = (".pt", ".pt2")


class FeatureModuleError(Exception):
    """A feature-extractor file that cannot be used, with what to do about it."""


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise FeatureModuleError(
            f"{path}: a feature extractor must be a TorchScript file (.pt) or a torch.export archive (.pt2)")
    return suffix


def save_feature_module(module: nn.Module, path: str | Path, example: torch.Tensor, meta: dict[str, Any] | None = None) -> Path:
    """Save ``module`` (eval mode, on CPU) in the format its suffix names.

    ``example`` is one batch of at least 2 images, used for tracing / export; the batch
    dimension stays dynamic.
    """
    path = Path(path)
    suffix = _check_suffix(path)
    module = module.eval().cpu()
    example = example.cpu()
    if example.shape[0] < 2:
        raise ValueError("example must hold at least 2 images (a batch of 1 would fix the batch size)")
    meta = dict(meta or {})
    meta.setdefault("input_shape", list(example.shape[1:]))
    extra = {META_FILE: json.dumps(meta, indent=2)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), atomic_path(path) as tmp:
        if suffix == ".pt":
            torch.jit.save(torch.jit.trace(module, example), str(tmp), _extra_files=extra)
        else:
            batch = torch.export.Dim("batch", min=1)
            program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
            torch.export.save(program, str(tmp), extra_files=extra)
    return path


def load_feature_module(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Return (callable module on CPU, metadata dict) for a file written by either format."""
    path = Path(path)
    suffix = _check_suffix(path)
    if not path.is_file():
        raise FeatureModuleError(f"feature extractor not found: {path} "
                                 "(train one with `python -m lit_gan train-classifier --config ...`)")
    extra = {META_FILE: ""}
    try:
        if suffix == ".pt":
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
            module.eval()
        else:
            module = torch.export.load(str(path), extra_files=extra).module()
    except Exception as err:  # a foreign or truncated file: say which and why, not a C++ trace
        raise FeatureModuleError(f"{path} is not a readable {'TorchScript' if suffix == '.pt' else 'torch.export'} "
                                 f"file ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
    raw = extra[META_FILE]
    meta = json.loads(raw.decode() if isinstance(raw, bytes) else raw) if raw else {}
    return module, meta
