"""CycleGAN's unpaired data (two folders of unrelated images), e.g. monet2photo, as a LightningDataModule.

Layout, that of the extracted ``monet2photo.zip``: ``root/<dataset>/{trainA,trainB,testA,testB}/*.jpg``.
monet2photo: A = Monet paintings, B = photos; 1072 / 6287 train, 121 / 751 test.

Items are ``UnpairedItem(A, B, name_A, name_B)``: float32 (3, S, S) images in [-1, 1] and their file
names. A comes first, so code reading ``item[0]`` as "the real images" (the metrics' ``real_images``)
sees domain A: for monet2photo the Monets, the real side of photo -> Monet (BtoA). For domain B, or
for every image of a domain exactly once, use ``domain_set(split, "B")``.

Pairing (as Zhu et al.'s code, ``UnalignedDataset``). Training: an epoch has max(|A|, |B|) items,
item i is A[i % |A|] with a random B (``serial_batches=True``: B[i % |B|], no shuffling), each image
with its own crop and flip; the B index and the jitter come from the item's seed (see paired.py's
``EpochSampler``), so a seed reproduces them whatever ``num_workers``. Test: |A| items, A[i] with
B[i % |B|], resized to ``crop_size``, nothing random.

Validation. CycleGAN's data has no validation split. ``val_from_test=False`` (default): no
validation (``val_dataloader`` returns ``[]``). ``True``: validation runs on testA/testB, handy for
watching samples, but then the test images are not held out: do not select checkpoints on it and
report test numbers from the same images.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.data import Dataset

from lit_gan.data.archives import Archive
from lit_gan.data.folder_base import ImageFolderDataModule
from lit_gan.data.image_folders import Jitter, item_rng, load_rgb

SERVER = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/"
ARCHIVES: dict[str, Archive] = {
    # size and sha256 as recorded by tensorflow_datasets (url_checksums/cycle_gan.txt) for the same file
    # on the server's former address (people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/)
    "monet2photo": Archive(
        urls=(SERVER + "monet2photo.zip",
              "https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/monet2photo.zip"),
        size=305_231_073, sha256="88f91b00fc228f97c9411fbf1880ec1d119c98f1722e4cfcfaa2fb35fac05b04",
        counts={"trainA": 1072, "trainB": 6287, "testA": 121, "testB": 751}),
}


class UnpairedItem(NamedTuple):
    """One A and one B image, unrelated; a batch collates to the same NamedTuple of batched fields."""

    A: torch.Tensor  # float32 (3, S, S) in [-1, 1]
    B: torch.Tensor  # float32 (3, S, S) in [-1, 1]
    name_A: str  # file names within their folders
    name_B: str


class UnpairedImageDataset(Dataset):
    """Training: max(|A|, |B|) items, A[i % |A|] with a random (or, ``serial``, the i-th) B;
    evaluation: |A| items, A[i] with B[i % |B|]. Crop and flip are drawn independently for A and B."""

    def __init__(self, folder_a: Path, names_a: list[str], folder_b: Path, names_b: list[str],
                 jitter: Jitter, serial: bool = False) -> None:
        if not names_a or not names_b:
            raise ValueError(f"both domains need images ({folder_a}: {len(names_a)}, {folder_b}: {len(names_b)})")
        self.folder_a, self.folder_b = str(folder_a), str(folder_b)
        self.names_a, self.names_b, self.jitter, self.serial = names_a, names_b, jitter, serial

    def __len__(self) -> int:
        return max(len(self.names_a), len(self.names_b)) if self.jitter.train else len(self.names_a)

    def __getitem__(self, index: int | tuple[int, int]) -> UnpairedItem:
        i, rng = item_rng(index, self.jitter.train)
        if rng is not None and not self.serial:
            j = int(rng.integers(len(self.names_b)))
        else:
            j = i % len(self.names_b)
        name_a, name_b = self.names_a[i % len(self.names_a)], self.names_b[j]
        a = self.jitter(load_rgb(os.path.join(self.folder_a, name_a)), self.jitter.draw(rng))
        b = self.jitter(load_rgb(os.path.join(self.folder_b, name_b)), self.jitter.draw(rng))
        return UnpairedItem(a, b, name_a, name_b)


class ImageFolderDataset(Dataset):
    """``(image, name)`` for every image of one folder once, in order, resized to ``crop_size``."""

    def __init__(self, folder: Path, names: list[str], crop_size: int) -> None:
        self.folder, self.names = str(folder), names
        self.jitter = Jitter(crop_size, crop_size, flip=False, train=False)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        return self.jitter(load_rgb(os.path.join(self.folder, self.names[i])), (0, 0, False)), self.names[i]


class UnpairedImageDataModule(ImageFolderDataModule):
    """CycleGAN data (module docstring): ``UnpairedItem(A, B, name_A, name_B)``, images (3, crop, crop).

    ``trainA/`` and ``trainB/`` are required, ``testA/`` + ``testB/`` used when present.
    ``download=True`` fetches monet2photo from the CycleGAN server in ``prepare_data`` (rank 0):
    size- and sha256-checked, resumable, extracted safely into a staging folder renamed into place
    only when every folder holds its exact image count.
    """

    archives, kind, required = ARCHIVES, "unpaired", ("trainA", "trainB")

    def __init__(
        self,
        root: str = "data",
        dataset: str = "monet2photo",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        batch_size: int = 1,
        serial_batches: bool = False,
        num_workers: int = 0,
        download: bool = False,
        seed: int | None = None,
        val_from_test: bool = False,
        pin_memory: bool = False,
        also_look_in: list[str] | None = None,
    ) -> None:
        """
        Args:
            root: the folder holding ``<dataset>/``; ``download`` puts it there.
            dataset: a folder under ``root``, or a class pair derived from (Fashion-)MNIST that ``prepare_data``
                builds there (``sneaker2boot``, ``tshirt2shirt``, ``fashion_mnist_<a>to<b>``, ``mnist_<a>to<b>``;
                lit_gan.data.derived).
            load_size, crop_size, flip: training jitter (Zhu et al.'s code defaults, pix2pix's sec. 6.2: 286, 256, flip).
            batch_size: 1 in the paper (Zhu et al. 2017, sec. 4).
            serial_batches: A and B in order, B[i % |B|] (their code's ``--serial_batches``), no shuffling.
            seed: seeds the order, the B partners, crops and flips; None: ``torch.initial_seed()``.
            val_from_test: validate on testA/testB (not held out!) instead of not validating.
            also_look_in: for a derived ``dataset``: folders searched for the source's IDX files after
                ``root/FashionMNIST/raw`` (``MNIST/raw``) and ``root``, e.g. ``/usr/share/datasets/fashion-mnist``
                (Debian's dataset-fashion-mnist). Unused for other datasets.
        """
        super().__init__(root, dataset, load_size, crop_size, flip, batch_size, num_workers, download, seed,
                         pin_memory, also_look_in)
        self.save_hyperparameters()
        self.serial_batches, self.val_from_test = serial_batches, val_from_test
        self._names: dict[str, list[str]] = {}

    def layout(self) -> str:
        what = " (monet2photo: A = Monet paintings, B = photos)" if self.dataset == "monet2photo" else ""
        return f"{self.folder}/trainA/*.jpg and trainB/*.jpg (also testA/, testB/; .png works too){what}"

    def setup(self, stage: str | None = None) -> None:
        """Train and test sets (and val, see ``val_from_test``); later calls reuse them."""
        if self.train_set is not None:
            return
        names = self.list_folders(("trainA", "trainB", "testA", "testB"))
        if self.val_from_test and not (names["testA"] and names["testB"]):
            raise FileNotFoundError(f"val_from_test=True but {self.folder}/testA/ or testB/ holds no images.")
        self._names = names

        def make(split: str, train: bool) -> UnpairedImageDataset | None:
            if not (names[split + "A"] and names[split + "B"]):
                return None
            jitter = Jitter(self.load_size, self.crop_size, self.flip, train=train)
            return UnpairedImageDataset(self.folder / (split + "A"), names[split + "A"], self.folder / (split + "B"),
                                        names[split + "B"], jitter, serial=self.serial_batches)

        self.train_set, self.test_set = make("train", True), make("test", False)
        self.val_set = make("test", False) if self.val_from_test else None

    def domain_set(self, split: str, domain: str) -> ImageFolderDataset:
        """Every image of ``<split><domain>/`` (e.g. ``"test", "B"``) once, in order: ``(image, name)``."""
        if split not in ("train", "test") or domain not in ("A", "B"):
            raise ValueError(f"split must be 'train' or 'test' and domain 'A' or 'B', got {split!r}, {domain!r}")
        self.setup()
        names = self._names[split + domain]
        if not names:
            raise FileNotFoundError(f"No images in {self.folder / (split + domain)}.")
        return ImageFolderDataset(self.folder / (split + domain), names, self.crop_size)

    def train_order(self) -> dict:
        """In order with ``serial_batches``; per-item seeds also draw the B partners."""
        return {**super().train_order(), "shuffle": not self.serial_batches}

    def validates(self) -> bool:
        """testA/testB when ``val_from_test``, else none (``val_dataloader`` gives ``[]``)."""
        return self.val_from_test

    def missing_test_message(self) -> str:
        return f"No test images: {self.folder}/testA/ or testB/ is missing or empty."
