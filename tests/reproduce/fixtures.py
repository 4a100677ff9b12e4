"""One data root holding every data set the shipped tables use, as tiny fixtures in the
exact on-disk layouts, and a shape-agnostic feature extractor in place of Inception."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lit_gan.metrics.feature_module import save_feature_module
from tests.conftest import write_tiny_mnist
from tests.data.test_celeba import write_torchvision_layout
from tests.data.test_paired import write_pairs
from tests.data.test_unpaired import make_dataset


class PooledColours(nn.Module):
    """(N, 3, 32, 32) -> (N, 48): 4x4 average-pooled colours; any image is resized to it."""

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, 4).flatten(1)


def write_rgb_extractor(path: Path) -> Path:
    return save_feature_module(PooledColours(), path, torch.rand(4, 3, 32, 32) * 2 - 1, {"dataset": "fixture"})


def write_data_root(root: Path) -> Path:
    """MNIST / Fashion (plain IDX files; Goodfellow's config holds out 10,000 for validation),
    CelebA (torchvision layout, 700 JPEGs: 70 test), facades and monet2photo."""
    write_tiny_mnist(root, n_train=10_200, n_test=256)
    write_torchvision_layout(root, n=700)
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        write_pairs(root / "facades" / split, n, size=64, fmt="jpg")
    make_dataset(root, "monet2photo", {"trainA": 10, "trainB": 10, "testA": 4, "testB": 4})
    return root
