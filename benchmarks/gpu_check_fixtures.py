"""Tiny data and helpers that benchmarks/gpu_check.py writes into its work folder (no downloads).

- MNIST: four gzipped IDX files (lit_gan.data.idx, as tests/conftest.py): a bright square whose
  position encodes the label, over faint noise.
- paired (pix2pix): ``tiny_pairs/{train,val,test}/<i>.png``, A | B side by side (lit_gan.data.paired).
- unpaired (CycleGAN): ``tiny_unpaired/{trainA,trainB,testA,testB}/<i>.png`` (lit_gan.data.unpaired).
- a feature extractor: a small fixed random classifier of (N, 1, 28, 28) images, saved as a
  lit_gan feature module, so FID / KID / accuracy run without Inception's weights.
- a callbacks module for the fit subprocesses: ``SignalAt`` sends SIGTERM to its own process
  after critic step ``SIGNAL_AT_BATCH`` (as tests/run_helpers.py), a deterministic mid-run stop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from lit_gan.data.idx import write_idx
from lit_gan.metrics.feature_module import save_feature_module

MNIST_TRAIN, MNIST_TEST, MNIST_VAL = 160, 64, 32  # 128 training images: 8 batches of 16 an epoch
PAIRS = {"train": 24, "val": 4, "test": 8}
UNPAIRED = {"trainA": 12, "trainB": 12, "testA": 4, "testB": 4}

CALLBACKS = '''
import os, signal
import lightning as L


class SignalAt(L.Callback):
    """SIGTERM to this process after critic step SIGNAL_AT_BATCH (lit_gan saves, then exits 143);
    with several processes only rank SIGNAL_AT_RANK gets it (the others must follow)."""
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (pl_module.batches_seen == int(os.environ["SIGNAL_AT_BATCH"])
                and trainer.global_rank == int(os.environ.get("SIGNAL_AT_RANK", "0"))):
            os.kill(os.getpid(), signal.SIGTERM)
'''


def write_mnist(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", MNIST_TRAIN), ("t10k", MNIST_TEST)):
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        for i, y in enumerate(labels):
            r, c = 4 + 2 * (y // 5) * 4, 4 + (y % 5) * 4
            images[i, r : r + 6, c : c + 6] = 255
        write_idx(root / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


def _smooth(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random 4x4 colour grid upsampled to (size, size, 3): image-like, not pixel noise."""
    return np.array(Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)).resize((size, size), Image.BILINEAR))


def write_paired(root: Path, size: int = 32, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    for split, n in PAIRS.items():
        folder = root / "tiny_pairs" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = _smooth(rng, size)
            Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(folder / f"{i}.png")  # B = A inverted
    return "tiny_pairs"


def write_unpaired(root: Path, size: int = 32, seed: int = 2) -> str:
    rng = np.random.default_rng(seed)
    for folder_name, n in UNPAIRED.items():
        folder = root / "tiny_unpaired" / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            image = _smooth(rng, size)
            Image.fromarray(image if folder_name.endswith("A") else image[..., ::-1].copy()).save(folder / f"{i}.png")
    return "tiny_unpaired"


class TinyClassifier(nn.Module):
    """(N, 1, 28, 28) in [-1, 1] -> (features (N, 16), logits (N, 10)); random but fixed."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 4, stride=4), nn.Flatten(), nn.Linear(196, 16), nn.Tanh())
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        f = self.features(x)
        return f, self.head(f)


def write_extractor(path: Path, seed: int = 0) -> Path:
    g = torch.Generator().manual_seed(seed)  # its own stream: the caller's global RNG is left alone
    module = TinyClassifier()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    example = torch.rand(4, 1, 28, 28, generator=g) * 2 - 1
    return save_feature_module(module, path, example, {"num_classes": 10, "class_names": [str(i) for i in range(10)],
                                                      "dataset": "gpu_check tiny"})


def write_all(work: Path) -> dict[str, Path | str]:
    """Every fixture under ``work``; returns where they are."""
    data = work / "data"
    write_mnist(data / "mnist")
    (work / "gpu_check_callbacks.py").write_text(CALLBACKS)
    return {"mnist": data / "mnist", "images": data, "paired": write_paired(data), "unpaired": write_unpaired(data),
            "extractor": write_extractor(work / "tiny_extractor.pt2"), "callbacks": work,
            "reference_cache": work / "reference_cache"}
