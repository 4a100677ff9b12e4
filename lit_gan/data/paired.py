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
import shutil
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, NamedTuple

import lightning as L
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from lit_gan.data.download import DownloadError, download_file, safe_extract

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Archive:
    """A dataset archive on the pix2pix/CycleGAN servers and what it must unpack to."""

    urls: tuple[str, ...]  # mirrors, tried in order
    size: int | None  # bytes
    sha256: str | None
    counts: dict[str, int]  # folder under <dataset>/ -> its exact number of images

    @property
    def filename(self) -> str:
        return self.urls[0].rsplit("/", 1)[-1]


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


def list_images(folder: Path) -> list[str]:
    """Sorted image file names in ``folder`` (hidden files such as ``._1.jpg`` skipped); [] if none."""
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".")
                          and e.name.lower().endswith(IMAGE_SUFFIXES) and e.is_file())
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
    return torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


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


class EpochSampler(Sampler):
    """Yields ``(index, item_seed)``; the order (shuffled or not) and the seeds come from
    ``numpy.random.default_rng([seed, epoch])``. Lightning calls ``set_epoch`` before each epoch (and a
    resumed run gets the right epoch); without it each pass over the sampler advances the epoch, so a
    plain loop does not repeat the same crops. Under DDP Lightning wraps it (DistributedSamplerWrapper)
    and each rank takes its share of the same list, as ``seed`` is the same on every rank."""

    def __init__(self, length: int, seed: int, shuffle: bool = True) -> None:
        self.length, self.seed, self.shuffle, self.epoch = length, int(seed), shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[tuple[int, int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.length) if self.shuffle else np.arange(self.length)
        seeds = rng.integers(0, 2**63, self.length, dtype=np.uint64)
        self.epoch += 1
        return iter(zip(order.tolist(), seeds.tolist()))


def check_sizes(load_size: int, crop_size: int, batch_size: int, num_workers: int) -> None:
    if crop_size < 1 or load_size < crop_size or batch_size < 1 or num_workers < 0:
        raise ValueError(f"need 1 <= crop_size <= load_size, batch_size >= 1 and num_workers >= 0; got "
                         f"crop_size={crop_size}, load_size={load_size}, batch_size={batch_size}, "
                         f"num_workers={num_workers}")


def count_mismatches(folder: Path, counts: dict[str, int]) -> list[str]:
    return [f"{sub}/ holds {n} images, expected {want}" for sub, want in counts.items()
            if (n := len(list_images(folder / sub))) != want]


def warn_on_counts(folder: Path, counts: dict[str, int]) -> None:
    """A hand-placed copy may differ on purpose (a subset), so only warn."""
    if wrong := count_mismatches(folder, counts):
        warnings.warn(f"{folder}: {'; '.join(wrong)}. If a copy or extraction was interrupted, redo it.")


def manual_steps(name: str, root: Path, archive: Archive | None, layout: str, downloadable: list[str]) -> str:
    if archive is None:
        return (f"No download source is known for {name!r} (`download: true` works for {', '.join(downloadable)}): "
                f"place the images by hand as {layout}.")
    unpack = (f"unzip {archive.filename} -d {root}" if archive.filename.endswith(".zip")
              else f"tar -xzf {archive.filename} -C {root}")
    return ("Fix it in one of these ways:\n"
            "  1. let it download: `download: true` under `data.init_args` in the config, or\n"
            "     `--data.init_args.download=true` on the command line;\n"
            f"  2. download {archive.urls[0]} yourself and unpack it: `{unpack}`;\n"
            f"  3. place the images by hand as {layout}.")


def download_dataset(root: Path, name: str, archives: dict[str, Archive], required: tuple[str, ...],
                     layout: str) -> Path:
    """Fetch and unpack ``root/<name>`` unless its ``required`` folders hold images.

    The archive (kept as ``root/<file>``; delete it when done) is size- or sha256-checked and
    resumable (``download_file``); it is unpacked by ``safe_extract`` into ``root/.<name>.extracting``
    and renamed to ``root/<name>`` only when every folder holds its exact image count, so a
    half-extracted dataset never looks complete. An existing but incomplete ``root/<name>`` is an
    error, never overwritten: it may be a copy in progress.
    """
    folder, archive = root / name, archives.get(name)
    missing = [s for s in required if not list_images(folder / s)]
    if not missing:
        return folder
    if folder.exists():
        raise FileExistsError(
            f"{folder} exists but {', '.join(f'{s}/' for s in missing)} is missing or empty. A finished download "
            f"appears in one step, so this is a copy by hand or of another origin; it is left untouched. Complete "
            f"it ({layout}), or move it away and run again to download.")
    if archive is None:
        raise ValueError(manual_steps(name, root, None, layout, sorted(archives)))
    file = root / archive.filename
    try:
        download_file(list(archive.urls), file, sha256=archive.sha256, expected_size=archive.size)
    except DownloadError as e:
        raise DownloadError(f"{e}\nOr skip the archive: get {name} another way and place it as {layout}.") from e
    staging = root / f".{name}.extracting"
    shutil.rmtree(staging, ignore_errors=True)  # only ever left by an interrupted run of ours
    try:
        safe_extract(file, staging)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
        raise DownloadError(f"{file} is damaged ({type(e).__name__}: {e}): delete it and run again.") from e
    unpacked = staging / name if (staging / name).is_dir() else staging
    if wrong := count_mismatches(unpacked, archive.counts):
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"{file} did not unpack to the expected {name} ({'; '.join(wrong)}). Delete {file} "
                            f"and run again, or place the data by hand as {layout}.")
    os.replace(unpacked, folder)
    shutil.rmtree(staging, ignore_errors=True)
    return folder


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


class PairedImageDataModule(L.LightningDataModule):
    """pix2pix data (module docstring): ``PairedItem(target, input, name)``, images (3, crop, crop) in [-1, 1].

    Splits: ``train/`` is required; ``val/`` and ``test/`` are used when present (a missing ``val/``
    means no validation, ``val_dataloader`` returns ``[]``). ``download=True`` fetches facades from
    the pix2pix server in ``prepare_data`` (rank 0): size-checked, resumable, extracted safely into a
    staging folder that is renamed into place only when every split holds its exact image count.
    """

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
    ) -> None:
        """
        Args:
            root: the folder holding ``<dataset>/``; ``download`` puts it there.
            direction: ``BtoA`` (pix2pix's facades labels -> photo) or ``AtoB``; sets input/target.
            load_size, crop_size, flip: the training jitter (Isola et al. 2017, sec. 6.2: 286, 256, flip);
                val/test images are resized to ``crop_size``.
            batch_size: 1 in the paper (Isola et al. 2017, sec. 6.2: batch 1 for facades).
            seed: seeds crops and flips; None: ``torch.initial_seed()`` (what ``seed_everything`` set).
        """
        super().__init__()
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        if not dataset or Path(dataset).name != dataset:
            raise ValueError(f"dataset must be a folder name under root (like 'facades'), got {dataset!r}")
        check_sizes(load_size, crop_size, batch_size, num_workers)
        self.save_hyperparameters()
        self.root, self.dataset, self.direction = Path(root), dataset, direction
        self.load_size, self.crop_size, self.flip = load_size, crop_size, flip
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.download, self.seed = download, seed
        self.train_set: PairedImageDataset | None = None
        self.val_set: PairedImageDataset | None = None
        self.test_set: PairedImageDataset | None = None

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image; known before setup so the CLI can link it into the model."""
        return (3, self.crop_size, self.crop_size)

    @property
    def input_domain(self) -> str:
        return self.direction[0]

    @property
    def target_domain(self) -> str:
        return self.direction[-1]

    @property
    def folder(self) -> Path:
        return self.root / self.dataset

    def _layout(self) -> str:
        return (f"{self.folder}/train/*.jpg (also val/, test/; .png works too), each image A | B side by side"
                + (" (facades: A = photo, B = labels)" if self.dataset == "facades" else ""))

    def prepare_data(self) -> None:
        """Rank 0: download and extract when asked and ``<root>/<dataset>/train`` is missing."""
        if self.download:
            download_dataset(self.root, self.dataset, ARCHIVES, ("train",), self._layout())

    def setup(self, stage: str | None = None) -> None:
        """All splits present, whatever the stage (later calls reuse them)."""
        if self.train_set is not None:
            return
        names = {s: list_images(self.folder / s) for s in SPLITS}
        if not names["train"]:
            raise FileNotFoundError(
                f"{self.dataset} not found: no images in {self.folder / 'train'}.\n"
                + manual_steps(self.dataset, self.root, ARCHIVES.get(self.dataset), self._layout(), sorted(ARCHIVES)))
        if self.dataset in ARCHIVES:
            warn_on_counts(self.folder, ARCHIVES[self.dataset].counts)
        sets = {s: PairedImageDataset(self.folder / s, n, Jitter(self.load_size, self.crop_size, self.flip,
                                                                  train=s == "train"), self.direction)
                for s, n in names.items() if n}
        self.train_set, self.val_set, self.test_set = (sets.get(s) for s in SPLITS)

    def _loader(self, ds: Dataset | None, train: bool) -> DataLoader:
        if ds is None:
            raise RuntimeError("Call datamodule.setup() before asking for a dataloader.")
        sampler = None
        if train:
            sampler = EpochSampler(len(ds), self.seed if self.seed is not None else torch.initial_seed())
        return DataLoader(ds, batch_size=self.batch_size, sampler=sampler, drop_last=train,
                          num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader | list:
        """``val/`` in order; ``[]`` (Lightning: no validation) when the dataset has no ``val/``."""
        if self.train_set is not None and self.val_set is None:
            return []
        return self._loader(self.val_set, train=False)

    def test_dataloader(self) -> DataLoader:
        if self.train_set is not None and self.test_set is None:
            raise FileNotFoundError(f"No test images: {self.folder / 'test'} is missing or empty. Put the test "
                                    "pairs there, or evaluate on another split.")
        return self._loader(self.test_set, train=False)
