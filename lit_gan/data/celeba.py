"""CelebA (aligned & cropped faces, 178x218 JPEGs) at 64x64, for DCGAN / WGAN / WGAN-GP.

Where images are looked for (the first folder holding any .jpg/.jpeg/.png is used):

1. ``root/celeba/img_align_celeba/``: torchvision's layout, split file ``root/celeba/``
2. ``root/img_align_celeba/img_align_celeba/``: Kaggle's jessicali9530/celeba-dataset, split file ``root/``
3. ``root/img_align_celeba/``: the official zip unpacked in ``root``, split file ``root/``
4. ``root/``: any folder of face images

Split. A partition file (``list_eval_partition.txt``, lines ``000001.jpg 0``, or Kaggle's
``list_eval_partition.csv``, ``000001.jpg,0``; 0 train, 1 val, 2 test) gives the official
split (162,770 / 19,867 / 19,962), and every image it lists must be present, so a
half-extracted folder is an error, not a smaller dataset. Without one, names that are
all official (``000001.jpg`` .. ``202599.jpg``, or .png) split by index exactly as the
official file does (1..162770 train, 162771..182637 val, the rest test); other names are
sorted and split in the official proportions (first round(N * 162770 / 202599) train,
next round(N * 19867 / 202599) val, the rest test). Nothing is random: every machine
and rank gets the same split.

Items are ``(image float32 (3, S, S) in [-1, 1], 0)``: the constant label 0 keeps
MNISTDataModule's (image, label) shape, as compare_gan's CelebA loader does. With
``attributes=[...]`` (names from CelebA's list_attr_celeba.txt / Kaggle's .csv, read from
the partition file's folder) the label is instead a float32 multi-hot tensor (A,), 1 where
the face has the attribute (lit_gan.data.celeba_attributes): what an attribute classifier
(``train-classifier --config experiments/classifiers/celeba_attributes.yaml``) learns from.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from lit_gan.data.base import SplitDataModule
from lit_gan.data.celeba_attributes import (AttributeDataset, attribute_labels, check_attributes,
                                            find_attribute_file, read_attribute_file)
from lit_gan.data.contract import SPLITS  # partition codes 0, 1, 2
from lit_gan.data.face_folder import FaceFolderDataset, PreparedDataset, prepare, prepared_path
from lit_gan.data.image_folders import list_images as list_folder_images
from lit_gan.download import DownloadError, safe_extract

OFFICIAL_SIZES = (162_770, 19_867, 19_962)
OFFICIAL_TOTAL = sum(OFFICIAL_SIZES)  # 202,599
PARTITION_FILES = ("list_eval_partition.txt", "list_eval_partition.csv")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
KAGGLE_URL = "https://www.kaggle.com/datasets/jessicali9530/celeba-dataset"
OFFICIAL_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
_OFFICIAL_NAME = re.compile(r"(\d{6})\.(jpg|png)", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """Where the images are and which file names make each split (in order)."""

    image_dir: Path
    splits: dict[str, np.ndarray]  # numpy string arrays: no per-item refcounts for workers to copy
    rule: str
    annotations: Path | None = None  # the partition file's folder, where list_attr_celeba.* is looked for


def search_paths(root: Path) -> list[tuple[Path, Path]]:
    """(image folder, folder of the partition file) for each layout, in search order."""
    return [(root / "celeba" / "img_align_celeba", root / "celeba"),
            (root / "img_align_celeba" / "img_align_celeba", root),
            (root / "img_align_celeba", root), (root, root)]


def list_images(folder: Path) -> list[str]:
    """Sorted CelebA-style image names in ``folder`` (JPEG / PNG; hidden files skipped)."""
    return list_folder_images(folder, IMAGE_SUFFIXES)


def read_partition(path: Path) -> dict[str, int]:
    """``name -> 0/1/2`` from list_eval_partition.txt (space separated) or Kaggle's .csv (with a header)."""
    parts: dict[str, int] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.replace(",", " ").split()
        if not fields or (n == 1 and len(fields) == 2 and not fields[1].isdigit()):
            continue  # blank line or the CSV header "image_id,partition"
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise ValueError(f"{path}, line {n}: expected '<image name> <0|1|2>', got {line.strip()!r}. "
                             "The file is damaged; copy it again from the dataset.")
        parts[fields[0]] = int(fields[1])
    return parts


def split_without_partition(names: list[str]) -> tuple[list[list[str]], str]:
    """The rule of the module docstring for a folder without a partition file."""
    index = [int(m.group(1)) if (m := _OFFICIAL_NAME.fullmatch(n)) else 0 for n in names]
    if all(1 <= i <= OFFICIAL_TOTAL for i in index):
        ends = np.cumsum(OFFICIAL_SIZES)[:2]
        codes = np.searchsorted(ends, index, side="left")  # i <= 162770 -> 0, <= 182637 -> 1, else 2
        return [[n for n, c in zip(names, codes) if c == s] for s in range(3)], "official index ranges"
    n_train = round(len(names) * OFFICIAL_SIZES[0] / OFFICIAL_TOTAL)
    n_val = round(len(names) * OFFICIAL_SIZES[1] / OFFICIAL_TOTAL)
    split = [names[:n_train], names[n_train:n_train + n_val], names[n_train + n_val:]]
    return split, "sorted names in the official proportions"


def locate(root: Path) -> Source | None:
    """The first layout holding images, its split, or None when no layout holds any."""
    for image_dir, part_dir in search_paths(root):
        names = list_images(image_dir)
        if not names:
            continue
        partition = next((part_dir / p for p in PARTITION_FILES if (part_dir / p).is_file()), None)
        if partition is None:
            split, rule = split_without_partition(names)
            if rule.startswith("official") and len(names) < OFFICIAL_TOTAL:
                warnings.warn(f"{image_dir} holds {len(names):,} of the {OFFICIAL_TOTAL:,} CelebA images and has "
                              "no partition file to check against; if an unzip or copy was interrupted, redo it.")
        else:
            parts, present = read_partition(partition), set(names)
            missing = [n for n in parts if n not in present]
            if missing:
                raise FileNotFoundError(
                    f"{len(missing):,} of the {len(parts):,} images listed in {partition} are missing from "
                    f"{image_dir} (first: {', '.join(missing[:3])}). The folder is incomplete (an interrupted "
                    "download, unzip or copy): extract or copy the images again. To train on the images that "
                    "are there, move the partition file away (official names then split by index).")
            split, rule = [[n for n, p in parts.items() if p == s] for s in range(3)], f"partition file {partition}"
        return Source(image_dir, {s: np.array(v, dtype=str) for s, v in zip(SPLITS, split)}, rule, part_dir)
    return None


def missing_message(root: Path) -> str:
    paths = "\n".join(f"  {img}   (split file: {part / PARTITION_FILES[0]} or .csv)" for img, part in search_paths(root))
    return (f"CelebA not found: no .jpg/.jpeg/.png images in any of\n{paths}\n"
            "Fix it in one of these ways:\n"
            "  1. `download: true` under `data.init_args` (or `--data.init_args.download=true`): torchvision's\n"
            "     Google Drive source, needs `pip install gdown`, often refused for quota;\n"
            f"  2. Kaggle ({KAGGLE_URL}): `kaggle datasets download -d jessicali9530/celeba-dataset`, unzip\n"
            f"     it in {root} (gives {root}/img_align_celeba/img_align_celeba/ and list_eval_partition.csv);\n"
            "  3. put any folder of face images at `root` (the split then follows file names).")


def download_help(root: Path, name: str, error: BaseException) -> str:
    folder = root / "celeba"
    return (f"Could not download CelebA's {name} from Google Drive (torchvision's source):\n"
            f"  {type(error).__name__}: {error}\n"
            "Google Drive often refuses these files ('too many users have viewed or downloaded this file\n"
            "recently', sent as an HTML page instead of the file) or is unreachable. Get CelebA another way:\n"
            f"  1. Kaggle ({KAGGLE_URL}): `pip install kaggle`,\n"
            f"     `kaggle datasets download -d jessicali9530/celeba-dataset -p {root}`, then unzip it in {root}:\n"
            f"     {root}/img_align_celeba/img_align_celeba/*.jpg and {root}/list_eval_partition.csv are read as is;\n"
            f"  2. the official page ({OFFICIAL_URL}): put img_align_celeba.zip's images in\n"
            f"     {folder / 'img_align_celeba'}/ and list_eval_partition.txt in {folder}/;\n"
            "  3. wait a day (the Drive quota resets) and run again; verified files are not fetched twice.\n"
            "Check that the unzip finished: a partition file lets a half-extracted folder be detected.")


def download_celeba(root: Path) -> None:
    """The images zip, partition file and attribute file (``attributes:``) from torchvision's
    Google Drive list, md5-checked; the zip
    is unpacked with ``safe_extract`` (a temporary folder renamed into place), so an interrupted
    run never leaves a partial ``img_align_celeba/``."""
    from torchvision.datasets import CelebA
    from torchvision.datasets import utils as tv_utils

    folder, sources = root / "celeba", {name: (fid, md5) for fid, md5, name in CelebA.file_list}
    staging = folder / ".download"
    for name in ("list_eval_partition.txt", "list_attr_celeba.txt", "img_align_celeba.zip"):
        (file_id, md5), final = sources[name], folder / name
        if tv_utils.check_integrity(str(final), md5):
            continue
        try:
            tv_utils.download_file_from_google_drive(file_id, str(staging), name, md5)
            if not tv_utils.check_integrity(str(staging / name), md5):
                raise RuntimeError(f"the file received does not have md5 {md5}")
        except Exception as e:  # gdown, requests and torchvision raise unrelated types
            raise DownloadError(download_help(root, name, e)) from e
        os.replace(staging / name, final)
    shutil.rmtree(staging, ignore_errors=True)
    safe_extract(folder / "img_align_celeba.zip", folder)
    if not list_images(folder / "img_align_celeba"):
        raise DownloadError(f"{folder / 'img_align_celeba.zip'} held no img_align_celeba/ folder of images; "
                            "delete the zip and download again.")


class CelebADataModule(SplitDataModule):
    """CelebA faces as ``(image float32 (3, S, S) in [-1, 1], 0)``, or ``(image, multi-hot float32 (A,))``
    with ``attributes``; layouts and split in the module docstring.

    Crop: the centred ``crop`` x ``crop`` square of the 178x218 image (offsets as torchvision's
    CenterCrop: 35, 55 for 108), then a PIL bilinear (antialiased) resize to ``image_size``.
    Default 108, as DCGAN-tensorflow (carpedm20; ``--input_height=108 --crop``), the code many
    DCGAN / WGAN / WGAN-GP CelebA reimplementations follow: mostly face, little background.
    Others in use: 140 (tensorpack's DCGAN-CelebA, ``--crop-size 140``); 160 (compare_gan, Lucic
    et al. 2018: ``resize_image_with_crop_or_pad(image, 160, 160)`` then 64x64); ``None`` = 178,
    the whole width (PyTorch's DCGAN tutorial, Resize(64) + CenterCrop(64): the same region up
    to rounding). The WGAN and WGAN-GP papers report no CelebA runs (WGAN-GP's 64x64 code reads
    ImageNet already downsampled to 64x64, uncropped).

    ``prepared=True`` decodes each split once (``prepare_workers`` processes, a progress bar)
    into ``prepared_dir/celeba_<split>_crop<crop>_<S>px_<hash>.npy``, uint8 (N, 3, S, S), then
    reads it memory-mapped: no JPEG decoding per epoch, the same tensors. At 64 px all of
    CelebA takes 2.5 GB. A changed crop, size, image list or Pillow version gets a new file
    (old ones can be deleted); an existing file is reused. ``download=True`` fetches
    torchvision's Google Drive copy in ``prepare_data`` (rank 0), and says where else to get
    CelebA when that fails.
    """

    def __init__(
        self,
        root: str = "data",
        download: bool = False,
        image_size: int = 64,
        crop: int | None = 108,
        batch_size: int = 64,
        num_workers: int = 0,
        pin_memory: bool = False,
        prepared: bool = False,
        prepared_dir: str | None = None,
        prepare_workers: int | None = None,
        attributes: list[str] | None = None,
    ) -> None:
        """
        Args:
            root: where CelebA is (any layout above) and where ``download`` puts it.
            crop: side of the centred square cut before resizing; None: the largest (178).
            prepared: read decoded uint8 arrays (made once) instead of the JPEGs.
            prepared_dir: where those arrays go; default ``<root>/prepared``.
            prepare_workers: processes decoding during preparation; default all CPUs (at most 16).
            attributes: CelebA attribute names (e.g. ``[Eyeglasses, Male, Smiling]``) whose presence
                becomes the label, a float32 (A,) of 1 / 0; None: the constant label 0.
        """
        super().__init__(batch_size, num_workers, pin_memory)
        if image_size < 1 or batch_size < 1 or num_workers < 0 or (crop is not None and crop < 1):
            raise ValueError("image_size, batch_size and crop must be >= 1 and num_workers >= 0")
        self._attributes = check_attributes(attributes) if attributes is not None else None
        self.save_hyperparameters()
        self.root, self.download, self.image_size, self.crop = Path(root), download, image_size, crop
        self.prepared = prepared
        self.prepared_dir = Path(prepared_dir) if prepared_dir else self.root / "prepared"
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.prepare_workers = min(cpus, 16) if prepare_workers is None else prepare_workers
        self.split_rule: str | None = None

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image; known before setup so the CLI can link it into the model."""
        return (3, self.image_size, self.image_size)

    @property
    def attribute_names(self) -> tuple[str, ...] | None:
        """The ``attributes`` labels hold, in order (None: unlabelled); linked into the classifier."""
        return self._attributes

    @property
    def multilabel(self) -> bool:
        """Whether items carry attribute labels (the classifier's multi-label mode; linked into it)."""
        return self._attributes is not None

    def _source(self) -> Source:
        source = locate(self.root)
        if source is None:
            raise FileNotFoundError(missing_message(self.root))
        return source

    def _datasets(self) -> tuple[dict[str, Dataset], str]:
        """Each split's dataset and the split rule; with ``prepared``, arrays made now where missing."""
        source = self._source()
        labels = self._labels(source) if self.attribute_names is not None else None
        out: dict[str, Dataset] = {}
        for split, names in source.splits.items():
            ds = FaceFolderDataset(source.image_dir, names, self.crop, self.image_size)
            if self.prepared:
                path = prepared_path(self.prepared_dir, split, ds)
                if not path.is_file():
                    try:
                        prepare(ds, path, self.prepare_workers, desc=f"preparing CelebA {split}")
                    except PermissionError as e:
                        raise PermissionError(f"Cannot write {path}: {e}. Set `prepared_dir` to a writable "
                                              "folder.") from e
                ds = PreparedDataset(path)
            out[split] = AttributeDataset(ds, labels[split], names) if labels is not None else ds
        return out, source.rule

    def _labels(self, source: Source) -> dict[str, np.ndarray]:
        """Each split's float32 (n, A) attribute labels, read from the file beside the partition file."""
        table = read_attribute_file(find_attribute_file(source.annotations or source.image_dir))
        names = np.concatenate(list(source.splits.values()))
        labels = attribute_labels(table, names, self.attribute_names)
        ends = np.cumsum([len(v) for v in source.splits.values()])[:-1]
        return dict(zip(source.splits, np.split(labels, ends)))

    def prepare_data(self) -> None:
        """Rank 0: download when asked and nothing is found; make the prepared arrays."""
        if self.download and locate(self.root) is None:
            download_celeba(self.root)
        if self.prepared:
            self._datasets()

    def setup(self, stage: str | None = None) -> None:
        """All three splits, whatever the stage (later calls reuse them)."""
        if self.train_set is not None:
            return
        sets, self.split_rule = self._datasets()
        if len(sets["train"]) == 0:
            raise ValueError(f"No training images under {self.root} ({self.split_rule}).")
        self.train_set, self.val_set, self.test_set = sets["train"], sets["val"], sets["test"]
