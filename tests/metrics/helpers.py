"""Small feature modules for metric tests (no downloads)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from lit_gan.metrics.feature_module import save_feature_module


class TinyClassifier(nn.Module):
    """(N, 1, 28, 28) in [-1, 1] -> (features (N, 16), logits (N, 10)); random but fixed."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 4, stride=4), nn.Flatten(), nn.Linear(196, 16), nn.Tanh())
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        f = self.features(x)
        return f, self.head(f)


def write_tiny_extractor(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    return save_feature_module(TinyClassifier(), path, torch.randn(4, 1, 28, 28),
                               {"num_classes": 10, "class_names": [str(i) for i in range(10)], "dataset": "tiny"})
