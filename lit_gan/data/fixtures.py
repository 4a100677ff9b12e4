"""Tiny datasets in the exact on-disk formats the datamodules read, made up (no download): for
smoke-testing a config, a pipeline or a new machine in seconds. Tests and benchmarks use them.

- ``write_tiny_mnist``: the four gzipped IDX files of MNIST (MNISTDataModule, either variant);
  each image is a bright square whose position encodes its label, over faint noise, so a
  classifier can learn it;
- ``write_tiny_pairs``: pix2pix's layout, ``<name>/{train,val,test}/<i>.png`` holding A | B side
  by side, B = A inverted (PairedImageDataModule);
- ``write_tiny_unpaired``: CycleGAN's layout, ``<name>/{trainA,trainB,testA,testB}/<i>.png``,
  B images with their channels reversed (UnpairedImageDataModule).

Every writer takes a seed and draws from its own generator: the same files on every machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from lit_gan.data.idx import write_idx

PAIRS = {"train": 24, "val": 4, "test": 8}
UNPAIRED = {"trainA": 12, "trainB": 12, "testA": 4, "testB": 4}


def write_tiny_mnist(root: Path, n_train: int = 256, n_test: int = 64, seed: int = 0) -> Path:
    """Four gzipped IDX files directly in ``root`` (the plain-folder layout): ``n_train`` training
    and ``n_test`` test images, 28x28."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        for i, y in enumerate(labels):
            r, c = 4 + 2 * (y // 5) * 4, 4 + (y % 5) * 4
            images[i, r : r + 6, c : c + 6] = 255
        write_idx(root / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


def smooth_image(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random 4x4 colour grid upsampled to (size, size, 3) uint8: image-like, not pixel noise."""
    return np.array(Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)).resize((size, size),
                                                                                              Image.BILINEAR))


def _write_folders(root: Path, counts: dict[str, int], seed: int, size: int,
                   image: Callable[[str, np.ndarray], np.ndarray]) -> None:
    """``counts[folder]`` files ``root/<folder>/<i>.png``, each ``image(folder, smooth_image)``."""
    rng = np.random.default_rng(seed)
    for folder, n in counts.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(image(folder, smooth_image(rng, size))).save(root / folder / f"{i}.png")


def write_tiny_pairs(root: Path, name: str = "tiny_pairs", counts: dict[str, int] = PAIRS, size: int = 32,
                     seed: int = 1) -> str:
    """``root/<name>/<split>/<i>.png``, each A | B (``size`` square halves) with B = 255 - A; returns ``name``
    (PairedImageDataModule's ``dataset``)."""
    _write_folders(root / name, counts, seed, size, lambda _, a: np.concatenate([a, 255 - a], axis=1))
    return name


def write_tiny_unpaired(root: Path, name: str = "tiny_unpaired", counts: dict[str, int] = UNPAIRED,
                        size: int = 32, seed: int = 2) -> str:
    """``root/<name>/<folder>/<i>.png``, B images with their channels reversed; returns ``name``
    (UnpairedImageDataModule's ``dataset``)."""
    _write_folders(root / name, counts, seed, size,
                   lambda folder, a: a if folder.endswith("A") else np.ascontiguousarray(a[..., ::-1]))
    return name
