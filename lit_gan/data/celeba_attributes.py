"""CelebA's 40 binary face attributes as multi-hot labels (``CelebADataModule(attributes=[...])``).

Two on-disk formats, looked for beside the partition file (the folder ``locate`` names):

- ``list_attr_celeba.txt`` (official, ``Anno/`` on the CelebA page; torchvision's download):
  line 1 the image count, line 2 the 40 names, then ``000001.jpg  -1  1  1 -1 ...``
  (whitespace separated, 1 present, -1 absent);
- ``list_attr_celeba.csv`` (Kaggle's jessicali9530/celeba-dataset): a header
  ``image_id,5_o_Clock_Shadow,...`` then ``000001.jpg,-1,1,...``.

Labels are float32 (A,) with 1.0 present, 0.0 absent, in the order the attributes were
asked for: what ``BCEWithLogits`` and torchmetrics' multilabel metrics read.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

ATTRIBUTE_FILES = ("list_attr_celeba.txt", "list_attr_celeba.csv")
# the header of list_attr_celeba.txt, in its order (Liu et al. 2015, "Deep Learning Face Attributes in the Wild")
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)
_WHERE = ("list_attr_celeba.txt from the official page (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, "
          "Anno/ folder) or list_attr_celeba.csv from Kaggle "
          "(https://www.kaggle.com/datasets/jessicali9530/celeba-dataset)")


@dataclass(frozen=True)
class AttributeTable:
    """Every row of an attribute file: ``values[i, j]`` is +1/-1 for image ``images[i]``, attribute ``names[j]``."""

    path: Path
    names: tuple[str, ...]
    images: np.ndarray  # (N,) str
    values: np.ndarray  # (N, len(names)) int8 in {-1, 1}


def check_attributes(attributes: Sequence[str]) -> tuple[str, ...]:
    """``attributes`` as a tuple, or a one-line ValueError (unknown name: lists the 40; repeats; none)."""
    if isinstance(attributes, str):
        attributes = [attributes]
    attributes = tuple(str(a) for a in attributes)
    if not attributes:
        raise ValueError("attributes is empty: name at least one CelebA attribute (e.g. [Eyeglasses, Male, Smiling]) "
                         "or set it to null for unlabelled faces")
    for a in attributes:
        if a not in CELEBA_ATTRIBUTES:
            close = difflib.get_close_matches(a, CELEBA_ATTRIBUTES, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown CelebA attribute {a!r}{hint}; the 40 are: {', '.join(CELEBA_ATTRIBUTES)}")
    repeated = sorted({a for a in attributes if attributes.count(a) > 1})
    if repeated:
        raise ValueError(f"attributes names {', '.join(repeated)} more than once; name each attribute once")
    return attributes


def find_attribute_file(folder: Path) -> Path:
    """The attribute file in ``folder`` (``.txt`` first), or a FileNotFoundError saying where to get one."""
    for name in ATTRIBUTE_FILES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"CelebA attributes need an attribute file: neither {' nor '.join(ATTRIBUTE_FILES)} is in "
                            f"{folder} (beside the partition file). Get {_WHERE} and put it there, or set "
                            "`attributes: null` for unlabelled faces.")


def read_attribute_file(path: Path) -> AttributeTable:
    """Parse either format (module docstring); a ValueError naming the line for a damaged file."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    csv = bool(lines) and "," in lines[0]
    start, expected = 1, None
    if csv:  # image_id,5_o_Clock_Shadow,...
        names = tuple(f.strip() for f in lines[0].split(","))[1:]
    elif len(lines) >= 2 and lines[0].strip().isdigit():  # count, then the names
        expected, names, start = int(lines[0]), tuple(lines[1].split()), 2
    else:
        raise ValueError(f"{path} is not a CelebA attribute file: expected an image count on line 1 and the 40 "
                         f"attribute names on line 2 (list_attr_celeba.txt), or a CSV header 'image_id,...' "
                         f"(list_attr_celeba.csv). Copy it again: {_WHERE}.")
    rows = [line.replace(",", " ").split() for line in lines[start:]]
    for n, fields in enumerate(rows, start + 1):
        if len(fields) != len(names) + 1:
            raise ValueError(f"{path}, line {n}: expected an image name and {len(names)} values, got {len(fields)} "
                             f"fields. The file is damaged; copy it again ({_WHERE}).")
    try:
        values = np.array([fields[1:] for fields in rows], dtype=np.int8).reshape(len(rows), len(names))
        bad = np.flatnonzero(~np.isin(values, (-1, 1)).all(axis=1))
    except (ValueError, OverflowError):  # not an integer: find the line
        bad = [next(n for n, f in enumerate(rows) if not all(v in ("1", "-1") for v in f[1:]))]
    if len(bad):
        raise ValueError(f"{path}, line {bad[0] + start + 1}: values must be 1 (present) or -1 (absent). "
                         f"The file is damaged; copy it again ({_WHERE}).")
    if expected is not None and expected != len(rows):
        raise ValueError(f"{path} says it lists {expected:,} images but holds {len(rows):,} rows: the file is "
                         f"truncated or damaged; copy it again ({_WHERE}).")
    return AttributeTable(path, names, np.array([fields[0] for fields in rows], dtype=str), values)


def attribute_labels(table: AttributeTable, images: np.ndarray, attributes: Sequence[str]) -> np.ndarray:
    """float32 (len(images), A): 1.0 where image i has attribute j, else 0.0. ValueError for an
    attribute the file lacks or an image without a row."""
    missing_names = [a for a in attributes if a not in table.names]
    if missing_names:
        raise ValueError(f"{table.path} has no column {', '.join(missing_names)}; its columns are: "
                         f"{', '.join(table.names)}")
    row = {name: i for i, name in enumerate(table.images.tolist())}
    missing = [str(n) for n in images if str(n) not in row]
    if missing:
        raise ValueError(f"{len(missing):,} of {len(images):,} images have no row in {table.path} (first: "
                         f"{', '.join(missing[:3])}): the attribute file belongs to another copy of CelebA or is "
                         f"truncated. Use the file that came with these images ({_WHERE}).")
    columns = [table.names.index(a) for a in attributes]
    picked = table.values[np.array([row[str(n)] for n in images], dtype=np.int64)][:, columns]
    return (picked > 0).astype(np.float32).reshape(len(images), len(columns))


class AttributeDataset(Dataset):
    """``(image, labels float32 (A,))``: the image of a face dataset (whose label is a constant 0)
    with its row of ``labels``."""

    def __init__(self, faces: Dataset, labels: np.ndarray, names: np.ndarray) -> None:
        if not len(faces) == len(labels) == len(names):
            raise ValueError(f"{len(faces)} images but {len(labels)} label rows and {len(names)} names")
        self.faces, self.labels, self.names = faces, labels, names

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.faces[i][0], torch.tensor(self.labels[i])
