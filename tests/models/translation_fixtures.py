"""Tiny paired / unpaired datasets in the on-disk layouts: B is a known function of A."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def blob_image(rng: np.random.Generator, size: int = 40) -> np.ndarray:
    """A few flat-coloured discs: structure a small net can learn to map."""
    yy, xx = np.mgrid[:size, :size]
    img = np.zeros((size, size, 3))
    for _ in range(3):
        cy, cx, r = *rng.uniform(0, size, 2), rng.uniform(4, 12)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return img.astype(np.uint8)


def write_inverted_pairs(root: Path, counts=(("train", 48), ("val", 4), ("test", 8)), seed: int = 0,
                         size: int = 40) -> Path:
    """root/facades/<split>/<i>.png holding A | B (each ``size`` square) with B = 255 - A."""
    rng = np.random.default_rng(seed)
    for split, n in counts:
        (root / "facades" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = blob_image(rng, size)
            Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(root / "facades" / split / f"{i}.png")
    return root


def write_unpaired(root: Path, seed: int = 0) -> Path:
    """root/tiny/{trainA,trainB,testA,testB}: discs, and inverted discs in B."""
    rng = np.random.default_rng(seed)
    for split, n in (("trainA", 24), ("trainB", 24), ("testA", 6), ("testB", 6)):
        folder = root / "tiny" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = blob_image(rng)
            Image.fromarray(a if split.endswith("A") else 255 - a).save(folder / f"{i}.png")
    return root
