"""Reading image folders with pix2pix / CycleGAN's training jitter, reproducibly.

``Jitter`` is resize to ``load_size``, random crop ``crop_size``, random flip (Isola et al.
2017, sec. 6.2); ``EpochSampler`` gives every item a seed from (seed, epoch) so the jitter
does not depend on ``num_workers``, DDP or how much randomness the model used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
import numpy as np
import torch
from PIL import Image

from lit_gan.conversion import uint8_to_unit_range
from lit_gan.data.resumable import ResumableSampler

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def list_images(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[str]:
    """Sorted image file names in ``folder`` (hidden files such as ``._1.jpg`` skipped); [] if none."""
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".")
                          and e.name.lower().endswith(suffixes) and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []


def load_rgb(path: str) -> Image.Image:
    try:
        with Image.open(path) as f:
            return f.convert("RGB")
    except (OSError, SyntaxError) as e:  # truncated or not an image
        raise OSError(f"Cannot read {path}: {e}. The file is damaged (an interrupted copy or extraction?): "
                      "replace it or extract the dataset again.") from e


def to_tensor(img: Image.Image) -> torch.Tensor:
    """uint8 HWC PIL image -> float32 (3, H, W) in [-1, 1]."""
    return uint8_to_unit_range(torch.from_numpy(np.array(img)).permute(2, 0, 1))


@dataclass(frozen=True)
class Jitter:
    """pix2pix's preprocessing (Isola et al. 2017, sec. 6.2; CycleGAN reuses it): training resizes to
    ``load_size`` (bicubic), crops a random ``crop_size`` square and flips left-right with p=0.5;
    evaluation (``train=False``) resizes straight to ``crop_size``, no crop, no flip."""

    load_size: int
    crop_size: int
    flip: bool
    train: bool

    def draw(self, rng: np.random.Generator | None) -> tuple[int, int, bool]:
        """(left, top, flip) of one random view; (0, 0, False) in evaluation."""
        if not self.train or rng is None:
            return 0, 0, False
        span = self.load_size - self.crop_size + 1
        left, top = (int(v) for v in rng.integers(0, span, 2))
        return left, top, bool(self.flip and rng.random() < 0.5)

    def __call__(self, img: Image.Image, view: tuple[int, int, bool]) -> torch.Tensor:
        size = self.load_size if self.train else self.crop_size
        img = img.resize((size, size), Image.BICUBIC)
        left, top, flip = view
        if (left, top, size) != (0, 0, self.crop_size):
            img = img.crop((left, top, left + self.crop_size, top + self.crop_size))
        if flip:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return to_tensor(img)


def item_rng(index: int | tuple[int, int], random: bool) -> tuple[int, np.random.Generator | None]:
    """The item's index and its generator: seeded by ``EpochSampler``'s ``(index, seed)``, else drawn
    from torch's global RNG (only when the dataset is random, so evaluation never consumes it)."""
    if isinstance(index, (tuple, list)):
        return int(index[0]), np.random.default_rng(int(index[1]))
    if not random:
        return int(index), None
    return int(index), np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))


class EpochSampler(ResumableSampler):
    """Yields ``(index, item_seed)``; the order (shuffled or not) and the seeds come from
    ``numpy.random.default_rng([seed, epoch])``, and the position goes into checkpoints
    (lit_gan.data.resumable). Under DDP each rank takes its share of the same order (the seed is
    rank 0's on every rank)."""

    def __init__(self, length: int, seed: int, shuffle: bool = True) -> None:
        super().__init__(length, seed, shuffle, item_seeds=True)


def check_sizes(load_size: int, crop_size: int, batch_size: int, num_workers: int) -> None:
    if crop_size < 1 or load_size < crop_size or batch_size < 1 or num_workers < 0:
        raise ValueError(f"need 1 <= crop_size <= load_size, batch_size >= 1 and num_workers >= 0; got "
                         f"crop_size={crop_size}, load_size={load_size}, batch_size={batch_size}, "
                         f"num_workers={num_workers}")
