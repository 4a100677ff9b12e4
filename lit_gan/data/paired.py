"""pix2pix's paired data (one file holds A | B side by side), e.g. facades, as a LightningDataModule.

Layout, that of the extracted ``facades.tar.gz``: ``root/<dataset>/{train,val,test}/*.jpg|png``; each
file is A (left half) | B (right half). facades: A = photo, B = label map, 400 / 100 / 106 files.

Items are ``PairedItem(target, input, name)``, a NamedTuple, swapped by ``direction`` once here so
models never look at A/B: ``direction="BtoA"`` (the pix2pix facades setup, labels -> photo) gives
``input = B``, ``target = A``. The target comes first because code that reads ``item[0]`` as "the
real images" (the metrics' ``real_images``) must get the domain the generator produces.
``name`` is the file name in its split folder (``"1.jpg"``), for writing outputs under it.

Randomness. The datamodule's train loader uses ``EpochSampler``, which hands each item a seed drawn
from ``(seed, epoch)``: crops, flips (and CycleGAN's B partner) then depend only on the seed and the
epoch, not on ``num_workers``, DDP or how much RNG the model used. An int index (a plain DataLoader
over ``train_set``) draws from torch's global RNG instead, as torchvision's transforms do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, NamedTuple

import torch
from torch.utils.data import Dataset

from lit_gan.data.archives import Archive
from lit_gan.data.contract import SPLITS
from lit_gan.data.folder_base import ImageFolderDataModule
from lit_gan.data.image_folders import Jitter, item_rng, load_rgb

SERVER = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/"
ARCHIVES: dict[str, Archive] = {
    # 30,168,306 bytes: the server's Content-Length in published wget logs and in other loaders' size checks
    "facades": Archive(urls=(SERVER + "facades.tar.gz",
                             "https://people.eecs.berkeley.edu/~tinghuiz/projects/pix2pix/datasets/facades.tar.gz"),
                       size=30_168_306, sha256=None, counts={"train": 400, "val": 100, "test": 106}),
}


class PairedItem(NamedTuple):
    """One training pair; a batch of them collates to the same NamedTuple of batched fields."""

    target: torch.Tensor  # float32 (3, S, S) in [-1, 1]: what the generator should produce
    input: torch.Tensor  # float32 (3, S, S) in [-1, 1]: what the generator reads
    name: str  # file name within the split folder


class PairedImageDataset(Dataset):
    """``PairedItem``s of one split folder; the SAME crop and flip go to both halves."""

    def __init__(self, folder: Path, names: list[str], jitter: Jitter, direction: str) -> None:
        self.folder, self.names, self.jitter, self.direction = str(folder), names, jitter, direction

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int | tuple[int, int]) -> PairedItem:
        i, rng = item_rng(index, self.jitter.train)
        path = os.path.join(self.folder, self.names[i])
        pair = load_rgb(path)
        w, h = pair.size
        if w < 2:
            raise ValueError(f"{path} is {w}x{h}: a pix2pix file holds A | B side by side, so it is at least 2 wide.")
        view = self.jitter.draw(rng)
        a = self.jitter(pair.crop((0, 0, w // 2, h)), view)
        b = self.jitter(pair.crop((w // 2, 0, w, h)), view)
        inp, target = (a, b) if self.direction == "AtoB" else (b, a)
        return PairedItem(target, inp, self.names[i])


class PairedImageDataModule(ImageFolderDataModule):
    """pix2pix data (module docstring): ``PairedItem(target, input, name)``, images (3, crop, crop) in [-1, 1].

    Splits: ``train/`` is required; ``val/`` and ``test/`` are used when present (a missing ``val/``
    means no validation, ``val_dataloader`` returns ``[]``). ``download=True`` fetches facades from
    the pix2pix server in ``prepare_data`` (rank 0): size-checked, resumable, extracted safely into a
    staging folder that is renamed into place only when every split holds its exact image count.
    """

    archives, kind, required = ARCHIVES, "paired", ("train",)

    def __init__(
        self,
        root: str = "data",
        dataset: str = "facades",
        direction: Literal["AtoB", "BtoA"] = "BtoA",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        batch_size: int = 1,
        num_workers: int = 0,
        download: bool = False,
        seed: int | None = None,
        pin_memory: bool = False,
        also_look_in: list[str] | None = None,
    ) -> None:
        """
        Args:
            root: the folder holding ``<dataset>/``; ``download`` puts it there.
            dataset: a folder under ``root``, or a dataset derived from (Fashion-)MNIST that ``prepare_data``
                builds there (``edges2fashion``, ``edges2fashion64``, ``edges2mnist``: A = edges, B = image, so
                ``direction="AtoB"`` draws from edges; lit_gan.data.derived).
            direction: ``BtoA`` (pix2pix's facades labels -> photo) or ``AtoB``; sets input/target.
            load_size, crop_size, flip: the training jitter (Isola et al. 2017, sec. 6.2: 286, 256, flip);
                val/test images are resized to ``crop_size``.
            batch_size: 1 in the paper (Isola et al. 2017, sec. 6.2: batch 1 for facades).
            seed: seeds crops and flips; None: ``torch.initial_seed()`` (what ``seed_everything`` set).
            also_look_in: for a derived ``dataset``: folders searched for the source's IDX files after
                ``root/FashionMNIST/raw`` (``MNIST/raw``) and ``root``, e.g. ``/usr/share/datasets/fashion-mnist``
                (Debian's dataset-fashion-mnist). Unused for other datasets.
        """
        super().__init__(root, dataset, load_size, crop_size, flip, batch_size, num_workers, download, seed,
                         pin_memory, also_look_in)
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        self.save_hyperparameters()
        self.direction = direction

    @property
    def input_domain(self) -> str:
        return self.direction[0]

    @property
    def target_domain(self) -> str:
        return self.direction[-1]

    def layout(self) -> str:
        return (f"{self.folder}/train/*.jpg (also val/, test/; .png works too), each image A | B side by side"
                + (" (facades: A = photo, B = labels)" if self.dataset == "facades" else ""))

    def setup(self, stage: str | None = None) -> None:
        """All splits present, whatever the stage (later calls reuse them)."""
        if self.train_set is not None:
            return
        names = self.list_folders(SPLITS)
        sets = {s: PairedImageDataset(self.folder / s, n, Jitter(self.load_size, self.crop_size, self.flip,
                                                                  train=s == "train"), self.direction)
                for s, n in names.items() if n}
        self.train_set, self.val_set, self.test_set = (sets.get(s) for s in SPLITS)

    def missing_test_message(self) -> str:
        return (f"No test images: {self.folder / 'test'} is missing or empty. Put the test "
                "pairs there, or evaluate on another split.")
