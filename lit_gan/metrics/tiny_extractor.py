"""A small fixed random classifier saved as a feature extractor: FID, KID, IS and class metrics
then run end to end without Inception's weights (which these machines cannot fetch). Its numbers
mean nothing; tests and benchmarks use it to check the plumbing, not the quality."""

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


def write_tiny_extractor(path: Path, seed: int = 0, dataset: str = "tiny") -> Path:
    """``TinyClassifier`` with weights from ``seed``, saved at ``path`` (.pt2 or .pt) with 10 class names."""
    # CPU stream only, restored afterwards: the caller's random state is left as it was
    # (torch.manual_seed would also re-seed every CUDA device)
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        module, example = TinyClassifier(), torch.randn(4, 1, 28, 28)  # cpu: a test fixture written on the CPU
    return save_feature_module(module, path, example,
                               {"num_classes": 10, "class_names": [str(i) for i in range(10)], "dataset": dataset})
