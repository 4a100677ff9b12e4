"""Features of the real images, computed once and kept on disk.

The key hashes everything that changes them: the real images themselves (their uint8
bytes, so dataset, split, transform, image size and count are all covered and a stale
entry is impossible), the extractor's weights, how images are resized for it, and the
versions of the code that computes features. Entries are written atomically, so an
interrupted run never leaves a half-written cache file.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lit_gan.atomic import atomic_path
from lit_gan.metrics.extractors import Features

CACHE_FORMAT = 1  # bump when the stored layout or feature computation changes
# What torch.load raises for content that is not a readable entry (truncated zip, empty
# file, text, a foreign pickle). OSError (permission, disk) is not among them: it surfaces.
DAMAGED = (RuntimeError, EOFError, pickle.UnpicklingError, KeyError, ValueError)


def default_cache_dir() -> Path:
    """``$LIT_GAN_CACHE`` or ``~/.cache/lit_gan``, plus ``reference/``."""
    return Path(os.environ.get("LIT_GAN_CACHE", Path.home() / ".cache" / "lit_gan")).expanduser() / "reference"


def images_digest(images: Tensor) -> str:
    """sha256 of uint8 images (N, C, H, W), shape included."""
    digest = hashlib.sha256(repr(tuple(images.shape)).encode())
    digest.update(images.contiguous().numpy().tobytes())
    return digest.hexdigest()


def versions() -> dict[str, str]:
    import torchmetrics
    import torchvision

    import lit_gan

    found = {"lit_gan": lit_gan.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
             "torchmetrics": torchmetrics.__version__}
    try:
        import torch_fidelity

        found["torch_fidelity"] = torch_fidelity.__version__
    except ImportError:
        pass
    return found


def cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class ReferenceCache:
    """One ``.pt`` file per key under ``root`` holding the real features and the key's parts."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def path(self, key: str, label: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
        return self.root / f"{safe}-{key[:16]}.pt"

    def load(self, key: str, label: str) -> Features | None:
        """The entry (on the CPU), or None when there is none or it is damaged (it is then
        recomputed and overwritten); any other failure to read it (a permission error) is raised."""
        path = self.path(key, label)
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            return None
        except DAMAGED:
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("pool"), torch.Tensor):
            return None
        return Features(entry["pool"], entry.get("logits"))

    def save(self, key: str, label: str, features: Features, parts: dict[str, Any]) -> Path:
        path = self.path(key, label)
        # stored on the CPU, whatever device made them; the Evaluator moves a loaded entry back
        logits = None if features.logits is None else features.logits.cpu()
        entry = {"key": key, "parts": json.dumps(parts, sort_keys=True), "pool": features.pool.cpu(), "logits": logits}
        with atomic_path(path) as tmp:
            torch.save(entry, tmp)
        return path
