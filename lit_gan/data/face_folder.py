"""Face images from a folder, decoded per item or from a prepared memory-mapped array.

Decoding 200k JPEGs every epoch starves a GPU; ``prepare`` decodes each image once into a
uint8 (N, 3, S, S) ``.npy`` (written under a temporary name, then renamed) that
``PreparedDataset`` memory-maps, one map per DataLoader worker process. Both datasets
return identical tensors for the same image (tests/data/test_celeba.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import PIL
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from lit_gan.atomic import atomic_path
from lit_gan.conversion import uint8_to_unit_range

PREPARED_FORMAT = "v1: PIL RGB, centred crop (torchvision rounding), PIL bilinear resize, uint8 (N, 3, S, S)"


def load_face(path: str, crop: int | None, size: int) -> torch.Tensor:
    """uint8 (3, size, size): RGB, the centred ``crop`` square (None: the largest), PIL bilinear resize."""
    try:
        with Image.open(path) as f:
            img = f.convert("RGB")
    except (OSError, SyntaxError) as e:  # truncated or not an image
        raise OSError(f"Cannot read {path}: {e}. The file is damaged (an interrupted copy or unzip?): "
                      "replace it or extract the dataset again.") from e
    w, h = img.size
    c = min(w, h) if crop is None else crop
    if c > min(w, h):
        raise ValueError(f"{path} is {w}x{h}, smaller than crop={crop}: set crop to at most {min(w, h)}, "
                         "or to null for the largest centred square.")
    left, top = int(round((w - c) / 2.0)), int(round((h - c) / 2.0))  # torchvision's CenterCrop offsets
    img = img.crop((left, top, left + c, top + c)).resize((size, size), Image.BILINEAR)
    return torch.from_numpy(np.array(img)).permute(2, 0, 1).contiguous()


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    return uint8_to_unit_range(x)


class FaceFolderDataset(Dataset):
    """``(image, 0)``, decoded from its file on every access (one JPEG decode, crop, resize)."""

    def __init__(self, image_dir: Path, names: np.ndarray, crop: int | None, size: int) -> None:
        self.image_dir, self.names, self.crop, self.size = str(image_dir), names, crop, size

    def __len__(self) -> int:
        return len(self.names)

    def uint8(self, i: int) -> torch.Tensor:
        return load_face(os.path.join(self.image_dir, str(self.names[i])), self.crop, self.size)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return to_unit_range(self.uint8(i)), 0


class _Uint8(Dataset):
    def __init__(self, ds: FaceFolderDataset) -> None:
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.ds.uint8(i)


class PreparedDataset(Dataset):
    """``(image, 0)`` from a prepared uint8 (N, 3, S, S) .npy, memory-mapped on first use in each
    process (the map is never pickled: DataLoader workers open their own)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._len = len(np.load(self.path, mmap_mode="r"))
        self._array: np.ndarray | None = None
        self._pid: int | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_array": None, "_pid": None}

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        if self._array is None or self._pid != os.getpid():
            self._array, self._pid = np.load(self.path, mmap_mode="r"), os.getpid()
        return to_unit_range(torch.from_numpy(np.array(self._array[i]))), 0


def prepared_path(folder: Path, split: str, ds: FaceFolderDataset) -> Path:
    """``celeba_<split>_crop<crop|max>_<S>px_<hash>.npy``. The hash covers the split's file names,
    crop, size, PREPARED_FORMAT and Pillow's version (its decoder and resize make the pixels), so
    a changed transform, image list or Pillow gets a new file. Not the folder: a moved dataset
    keeps its arrays; images replaced under the same names need the old arrays deleted."""
    h = hashlib.sha256(f"{PREPARED_FORMAT}|Pillow {PIL.__version__}|{ds.crop}|{ds.size}|".encode())
    h.update("\n".join(map(str, ds.names)).encode())
    return folder / f"celeba_{split}_crop{ds.crop or 'max'}_{ds.size}px_{h.hexdigest()[:12]}.npy"


def prepare(ds: FaceFolderDataset, path: Path, workers: int, desc: str = "") -> Path:
    """Decode every image of ``ds`` once into ``path`` (written under a temporary name, then renamed)."""
    shape = (len(ds), 3, ds.size, ds.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    need, free = int(np.prod(shape)) + 4096, shutil.disk_usage(path.parent).free
    if need > free:
        raise OSError(f"Preparing {path.name} needs {need / 2**30:.2f} GiB but {path.parent} has "
                      f"{free / 2**30:.2f} GiB free: set `prepared_dir` to a disk with room, or `prepared: false`.")
    loader = DataLoader(_Uint8(ds), batch_size=256, num_workers=workers, collate_fn=torch.stack)
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        with tqdm(total=len(ds), desc=desc or path.name, unit="img", file=sys.stderr) as bar:
            start = 0
            for batch in loader:
                out[start:start + len(batch)] = batch.numpy()
                start += len(batch)
                bar.update(len(batch))
        out.flush()
        del out
    return path
