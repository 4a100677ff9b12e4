"""MNIST and Fashion-MNIST as one LightningDataModule, held in memory as uint8.

Split (Goodfellow et al. 2014 trained on 50k and validated on 10k this way): the first
`60_000 - val_size` images of the official training file train, the last `val_size`
validate, and the official 10k test file is the test set. Nothing is shuffled before
splitting, so the split is the same on every machine and every rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from lit_gan.conversion import uint8_to_unit_range
from lit_gan.data.base import SplitDataModule
from lit_gan.data.idx import read_idx_images, read_idx_labels
from lit_gan.data.subset import check_fraction, stratified_subset
from lit_gan.download import DownloadError, download_file

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class Variant:
    """Where a variant lives and comes from (mirrors and md5s as in torchvision 0.29)."""

    folder: str  # torchvision's layout: root/<folder>/raw/
    mirrors: tuple[str, ...]
    md5: dict[str, str]  # "<file>.gz" -> md5 of the gzipped file
    class_names: tuple[str, ...]


VARIANTS: dict[str, Variant] = {
    "mnist": Variant(
        folder="MNIST",
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        md5={"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
             "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
             "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
        class_names=tuple(str(d) for d in range(10)),
    ),
    "fashion": Variant(
        folder="FashionMNIST",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
             "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
             "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
             "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}


class ImageLabelDataset(Dataset):
    """(image, label) pairs from in-memory uint8 images; the float conversion is per item.

    Keeping uint8 (1/4 of float32's memory) and converting one image at a time costs
    a few microseconds per item, well below any GAN step.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return uint8_to_unit_range(self.images[i]), self.labels[i]


def resize_uint8(images: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """Bilinear (antialiased) resize of uint8 (N, C, H, W) images, rounded back to uint8.

    Done once at setup, in chunks so 60k images at 64x64 never need a 1 GB float copy.
    """
    out = torch.empty((images.shape[0], images.shape[1], size, size), dtype=torch.uint8)
    for s in range(0, len(images), chunk):
        x = images[s : s + chunk].float()
        y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[s : s + chunk] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


class MNISTDataModule(SplitDataModule):
    """MNIST or Fashion-MNIST; items are (image in [-1, 1] float32 (1, S, S), label int64).

    Files are looked for in torchvision's layout (`root/MNIST/raw/`, `root/FashionMNIST/raw/`)
    and directly in `root` (so `root=/usr/share/datasets/fashion-mnist` from Debian's
    `dataset-fashion-mnist` works), each file raw or `.gz`. `download=True` fetches the
    `.gz` files into torchvision's layout in `prepare_data` (rank 0 only).

    Split: first `60_000 - val_size` training images train, the last `val_size` validate
    (Goodfellow et al. 2014: 50k/10k); the official 10k test set tests. With `val_size=0`
    there is no validation set and `val_dataloader` returns `[]`, which Lightning treats
    as "no validation" (the test set is never used as a stand-in).

    Low-data runs: ``train_fraction`` < 1 keeps that share of the training split (after the
    validation tail is cut off; validation and test stay whole), the same share of every
    class, drawn with ``subset_seed`` (lit_gan.data.subset says why stratified).
    """

    def __init__(
        self,
        root: str = "data",
        variant: Literal["mnist", "fashion"] = "mnist",
        download: bool = False,
        image_size: int = 28,
        batch_size: int = 64,
        num_workers: int = 0,
        val_size: int = 10_000,
        pin_memory: bool = False,
        also_look_in: list[str] | None = None,
        train_fraction: float = 1.0,
        subset_seed: int = 0,
    ) -> None:
        """
        Args:
            root: where the four IDX files are (torchvision's layout or a plain folder),
                and where ``download`` puts them.
            also_look_in: read-only folders searched after ``root`` before downloading,
                e.g. ``/usr/share/datasets/fashion-mnist`` (Debian's dataset-fashion-mnist).
            train_fraction: share of the training split kept, stratified per class
                (e.g. 0.1, 0.01 for low-data experiments); 1.0 keeps all of it.
            subset_seed: seeds which images ``train_fraction`` keeps (not the run's seed, so
                runs with different seeds can train on the same subset).
        """
        super().__init__(batch_size, num_workers, pin_memory)
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
        if image_size < 1 or batch_size < 1 or num_workers < 0 or val_size < 0:
            raise ValueError("image_size and batch_size must be >= 1; num_workers and val_size >= 0")
        check_fraction(train_fraction)
        self.save_hyperparameters()
        self.root, self.variant = Path(root), variant
        self.download, self.image_size, self.val_size = download, image_size, val_size
        self.also_look_in = [Path(p) for p in also_look_in or []]
        self.train_fraction, self.subset_seed = train_fraction, subset_seed

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image; known before setup so the CLI can link it into the model."""
        return (1, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def class_names(self) -> tuple[str, ...]:
        return VARIANTS[self.variant].class_names

    def search_dirs(self) -> list[Path]:
        """Folders searched, in order: torchvision's layout, `root` itself, then `also_look_in`."""
        return [self.root / VARIANTS[self.variant].folder / "raw", self.root, *self.also_look_in]

    def find_files(self) -> dict[str, Path] | None:
        """The four files from the first folder holding all of them (raw preferred to .gz)."""
        for d in self.search_dirs():
            found = {}
            for name in FILES:
                hits = [p for p in (d / name, d / f"{name}.gz") if p.is_file()]
                if hits:
                    found[name] = hits[0]
            if len(found) == len(FILES):
                return found
        return None

    def prepare_data(self) -> None:
        """Download missing files when `download=True` (Lightning calls this on rank 0 only)."""
        if not self.download or self.find_files() is not None:
            return
        v, raw = VARIANTS[self.variant], self.search_dirs()[0]
        for gz, md5 in v.md5.items():
            try:
                download_file([m + gz for m in v.mirrors], raw / gz, md5=md5)
            except DownloadError as e:
                raise DownloadError(
                    f"{e}\n{self.variant} needs all four files ({', '.join(v.md5)}) in {raw}."
                ) from e

    def _missing_message(self) -> str:
        dirs = "\n".join(f"  {d}" for d in self.search_dirs())
        names = ", ".join(FILES)
        msg = (
            f"{self.variant} data not found. Looked for {names} (each raw or .gz) in:\n{dirs}\n"
            "Fix it in one of these ways:\n"
            "  1. let it download: `download: true` under `data.init_args` in the config, or\n"
            "     `--data.init_args.download=true` on the command line;\n"
            "  2. copy the four files (together, raw or .gz) into one of the folders above."
        )
        if self.variant == "fashion":
            msg += (
                "\n  3. on Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist`, then\n"
                "     `--data.init_args.root=/usr/share/datasets/fashion-mnist`."
            )
        return msg

    def setup(self, stage: str | None = None) -> None:
        """Load all splits once (a few hundred ms); later calls reuse them."""
        if self.test_set is not None:
            return
        files = self.find_files()
        if files is None:
            raise FileNotFoundError(self._missing_message())
        train_x, train_y = read_idx_images(files[FILES[0]]), read_idx_labels(files[FILES[1]])
        test_x, test_y = read_idx_images(files[FILES[2]]), read_idx_labels(files[FILES[3]])
        for x, y, what in ((train_x, train_y, "train"), (test_x, test_y, "t10k")):
            if len(x) != len(y):
                raise ValueError(
                    f"{what} images and labels disagree ({len(x)} vs {len(y)}) in "
                    f"{files[FILES[0]].parent}: the files come from different datasets; re-copy them."
                )
        if self.val_size >= len(train_x):
            raise ValueError(f"val_size={self.val_size} leaves no training images (train file has {len(train_x)})")
        if train_x.shape[-1] != self.image_size or train_x.shape[-2] != self.image_size:
            train_x, test_x = resize_uint8(train_x, self.image_size), resize_uint8(test_x, self.image_size)
        n = len(train_x) - self.val_size
        kept: slice | torch.Tensor = slice(n)  # the whole training split: a view, no copy
        if self.train_fraction < 1.0:
            kept = stratified_subset(train_y[:n], self.train_fraction, self.subset_seed)
        self.train_set = ImageLabelDataset(train_x[kept], train_y[kept])
        self.val_set = ImageLabelDataset(train_x[n:], train_y[n:]) if self.val_size else None
        self.test_set = ImageLabelDataset(test_x, test_y)

    def validates(self) -> bool:
        """The held-out tail of the training file; none (``val_dataloader`` gives ``[]``) when val_size=0."""
        return self.val_size > 0
