"""Feature extractors behind one interface: uint8 images in, (features, logits) out.

``load_extractor("inception")`` gives Inception-v3 (FID / KID / IS as in the papers);
``load_extractor("path/to/file.pt2")`` gives a saved domain module (lit_gan.metrics.
feature_module), e.g. the MNIST-family classifier of ``train-classifier``. Every
extractor has a ``card()`` for the protocol: its name, the sha256 of its weights file
and how images are resized for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gan.conversion import uint8_to_unit_range
from lit_gan.metrics.device import feature_dtype
from lit_gan.metrics.feature_module import load_feature_module
from lit_gan.metrics.inception import InceptionFeatures, find_inception_weights, sha256_of


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, the weights of PIL's convert("L")


@dataclass
class Features:
    """Extracted features (N, D) and, for classifiers, class logits (N, K)."""

    pool: Tensor
    logits: Tensor | None

    @staticmethod
    def cat(parts: list["Features"]) -> "Features":
        logits = [p.logits for p in parts]
        return Features(torch.cat([p.pool for p in parts]),
                        None if any(x is None for x in logits) else torch.cat(logits))

    def slice(self, rows: range) -> "Features":
        pick = slice(rows.start, rows.stop)
        return Features(self.pool[pick], None if self.logits is None else self.logits[pick])

    def to(self, device: str | torch.device) -> "Features":
        """On ``device``, in its feature dtype (float64; float32 on MPS)."""
        dtype = feature_dtype(device)

        def move(t: Tensor) -> Tensor:  # cast on whichever side has float64
            return t.to(dtype).to(device) if feature_dtype(t.device) == torch.float64 else t.to(device).to(dtype)

        return Features(move(self.pool), None if self.logits is None else move(self.logits))


class FeatureExtractor:
    """Callable: uint8 images (N, C, H, W) -> Features on ``device``, in ``feature_dtype(device)``
    (float64; float32 on MPS), where the metrics then compute."""

    def __init__(self, module: Any, name: str, sha256: str, input_shape: tuple[int, ...] | None,
                 takes_uint8: bool, meta: dict[str, Any] | None = None, device: str | torch.device = "cpu") -> None:
        self.module, self.name, self.sha256 = module, name, sha256
        self.input_shape = tuple(input_shape) if input_shape else None
        self.takes_uint8, self.meta, self.device = takes_uint8, dict(meta or {}), torch.device(device)

    @property
    def num_classes(self) -> int | None:
        return self.meta.get("num_classes")

    @property
    def class_names(self) -> list[str] | None:
        return self.meta.get("class_names")

    def resize_note(self, image_shape: tuple[int, ...]) -> str:
        """How images of (C, H, W) are brought to this extractor's input."""
        if self.takes_uint8:
            return f"{image_shape[1]}x{image_shape[2]} -> 299x299, bilinear as TF1 / torch-fidelity (antialias=False)"
        if self.input_shape is None:
            return "none"
        gray = "; RGB -> gray, BT.601 luma" if image_shape[0] == 3 and self.input_shape[0] == 1 else ""
        if tuple(self.input_shape[1:]) == tuple(image_shape[1:]):
            return gray.removeprefix("; ") or "none"
        return f"{image_shape[1]}x{image_shape[2]} -> {self.input_shape[1]}x{self.input_shape[2]}, bilinear{gray}"

    def _prepare(self, images: Tensor) -> Tensor:
        if self.takes_uint8:
            return images.to(self.device)
        x = uint8_to_unit_range(images.to(self.device))
        if self.input_shape is None:
            return x
        channels, size = self.input_shape[0], tuple(self.input_shape[1:])
        if x.shape[1] != channels:
            if x.shape[1] == 1 and channels == 3:
                x = x.expand(-1, 3, -1, -1)
            elif x.shape[1] == 3 and channels == 1:
                # ITU-R BT.601 luma, as PIL's convert("L"): gray images stored as RGB (the
                # translation datasets made from Fashion-MNIST) come back exactly
                x = torch.tensordot(x.new_tensor(LUMA), x, dims=([0], [1])).unsqueeze(1)
            else:
                raise ValueError(f"{self.name} expects {channels}-channel images, got {x.shape[1]} channels: "
                                 "use an extractor trained on images like these")
        if tuple(x.shape[2:]) != size:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return x

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Features:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise TypeError(f"extractors take uint8 images (N, C, H, W); got {images.dtype} {tuple(images.shape)}")
        out = self.module(self._prepare(images))
        pool, logits = out if isinstance(out, (tuple, list)) else (out, None)
        if pool.dim() != 2 or pool.shape[0] != images.shape[0]:
            raise ValueError(f"{self.name} returned features of shape {tuple(pool.shape)}; expected (N, D)")
        dtype = feature_dtype(pool.device)  # the device that made them keeps them
        return Features(pool.to(dtype), None if logits is None else logits.to(dtype))

    def card(self) -> dict[str, Any]:
        card = {"name": self.name, "sha256": self.sha256}
        card.update({k: v for k, v in self.meta.items() if k in ("dataset", "test_accuracy", "feature_dim", "num_classes")})
        return card


def load_extractor(spec: str, device: str | torch.device = "cpu", inception_weights: str | None = None,
                   download: bool = True) -> FeatureExtractor:
    """``"inception"`` or the path of a saved feature module (.pt / .pt2)."""
    if spec == "inception":
        weights = find_inception_weights(inception_weights, download=download)
        module = InceptionFeatures(weights).to(device)
        return FeatureExtractor(module, "inception-v3-2015-12-05", sha256_of(weights), None, takes_uint8=True,
                                meta={"feature_dim": 2048}, device=device)
    path = Path(spec)
    module, meta = load_feature_module(path)
    if hasattr(module, "to"):
        module = module.to(device)
    return FeatureExtractor(module, path.name, sha256_of(path), meta.get("input_shape"), takes_uint8=False,
                            meta=meta, device=device)
