"""A tiny CelebA with attributes in the exact on-disk formats: torchvision's / the official
layout (list_eval_partition.txt, list_attr_celeba.txt) and Kaggle's (.csv files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from lit_gan.data.celeba_attributes import CELEBA_ATTRIBUTES


def code(i: int) -> int:
    """Partition of image i: every 10th test, every other 5th val, the rest train."""
    return 2 if i % 10 == 0 else 1 if i % 5 == 0 else 0


def value(i: int, j: int) -> int:
    """Attribute j of image i, +1 or -1, varied so that no column is constant."""
    return 1 if (i * (j + 3) + j) % 7 < 3 else -1


def official_attribute_text(ids: list[int], count: int | None = None) -> str:
    """list_attr_celeba.txt as the official file writes it: count, names (trailing space), then
    '000001.jpg -1  1  1 ...' (each value right-aligned in two columns)."""
    rows = "".join(f"{i:06d}.jpg " + " ".join(f"{value(i, j):2d}" for j in range(40)) + "\n" for i in ids)
    return f"{len(ids) if count is None else count}\n" + " ".join(CELEBA_ATTRIBUTES) + " \n" + rows


def kaggle_attribute_csv(ids: list[int]) -> str:
    rows = "".join(f"{i:06d}.jpg," + ",".join(str(value(i, j)) for j in range(40)) + "\n" for i in ids)
    return "image_id," + ",".join(CELEBA_ATTRIBUTES) + "\n" + rows


def write_faces(folder: Path, ids: list[int], size: tuple[int, int] = (40, 48)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        pixels = np.random.default_rng(i).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:06d}.jpg", quality=95)


def write_celeba_with_attributes(root: Path, n: int = 20, layout: str = "torchvision") -> Path:
    """``n`` small JPEGs (40x48), a partition file and an attribute file; returns the folder
    holding the partition and attribute files."""
    ids = list(range(1, n + 1))
    if layout == "torchvision":
        meta = root / "celeba"
        write_faces(meta / "img_align_celeba", ids)
        (meta / "list_eval_partition.txt").write_text("".join(f"{i:06d}.jpg {code(i)}\n" for i in ids))
        (meta / "list_attr_celeba.txt").write_text(official_attribute_text(ids))
    elif layout == "kaggle":
        meta = root
        write_faces(root / "img_align_celeba" / "img_align_celeba", ids)
        (meta / "list_eval_partition.csv").write_text(
            "image_id,partition\n" + "".join(f"{i:06d}.jpg,{code(i)}\n" for i in ids))
        (meta / "list_attr_celeba.csv").write_text(kaggle_attribute_csv(ids))
    else:
        raise ValueError(layout)
    return meta
