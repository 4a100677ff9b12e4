"""What the CLI, the models and the metrics read from a datamodule: the one contract to follow.

A new dataset is a ``lightning.LightningDataModule`` that provides, besides Lightning's
``setup`` and ``*_dataloader`` hooks (``lit_gan.data.base.SplitDataModule`` gives those loaders,
resumable mid-epoch, from the three split Datasets):

Always (``DataModule``):
  ``data_shape``    one sample's shape, ``(C, H, W)`` for images or ``(2,)`` for points, known
                    right after ``__init__`` (before ``setup``): the CLI links it into
                    ``model.init_args.data_shape``, so a config never states it twice.
  ``train_set``, ``val_set``, ``test_set``
                    the split Datasets after ``setup()``, ``None`` before it and for a split
                    the data does not have (an empty Dataset reads the same). An item is
                    ``x`` or a tuple whose first field is ``x``: the real sample the metrics
                    read (``lit_gan.evaluation``: ``item[0]``), float32 of shape
                    ``data_shape``; images in [-1, 1], 2-D points in their own coordinates.
                    Image-to-image data puts the generator's *target* domain first.
  ``__init__``      cheap and side-effect free: no reading, no downloading (that is
                    ``prepare_data`` / ``setup``). The CLI may construct a datamodule once
                    more to read ``num_classes`` before it builds a conditional model.

Labelled data (``Labelled``; class-conditional models need it):
  ``num_classes``   K, known after ``__init__``; items are ``(x, y)`` with ``y`` an int in
                    ``[0, K)``. The CLI links it into ``model.init_args.num_classes`` of every
                    model whose ``__init__`` takes ``num_classes`` (CGAN, ACGAN, ...); it is
                    absent or ``None`` on unlabelled data (a constant placeholder label, as
                    CelebA's ``(x, 0)``, is not labelled data).
  ``class_names``   K names, for pictures and ``train-classifier``'s feature extractors.

Unpaired image-to-image data (``Unpaired``, CycleGAN):
  ``domain_set(split, domain)``
                    every image of one domain (``"A"`` / ``"B"``) of a split once, in order,
                    items ``(image, name)``: metrics compare translations with these.

Paired image-to-image data (``Paired``, pix2pix):
  ``direction``     ``"AtoB"`` or ``"BtoA"``: which half is the input; items are
                    ``(target, input, name)`` with the direction already applied.

2-D Gaussian mixtures (``Mixture2D``):
  ``modes``, ``mode_std``
                    the true means ``(K, 2)`` and per-mode std, which mode coverage
                    (``lit_gan.metrics.modes``) and the point plots read.

``problems(datamodule)`` checks a datamodule against all of this on a few items; a new
dataset's test should assert that it returns ``[]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lit_gan.errors import UserError

SPLITS = ("train", "val", "test")
LABELLED_DATA = "MNISTDataModule (--data lit_gan.data.MNISTDataModule; MNIST or Fashion-MNIST)"


@runtime_checkable
class DataModule(Protocol):
    """What every datamodule provides (module docstring)."""

    @property
    def data_shape(self) -> tuple[int, ...]: ...

    @property
    def train_set(self) -> Dataset | None: ...

    @property
    def val_set(self) -> Dataset | None: ...

    @property
    def test_set(self) -> Dataset | None: ...

    def setup(self, stage: str | None = None) -> None: ...


@runtime_checkable
class Labelled(Protocol):
    """Items ``(x, y)``, ``y`` in ``[0, num_classes)``; conditional models need this."""

    @property
    def num_classes(self) -> int | None: ...

    @property
    def class_names(self) -> Sequence[str]: ...


@runtime_checkable
class Unpaired(Protocol):
    """Two unrelated image domains (CycleGAN)."""

    def domain_set(self, split: str, domain: str) -> Dataset: ...


@runtime_checkable
class Paired(Protocol):
    """Aligned pairs, items ``(target, input, name)`` (pix2pix)."""

    @property
    def direction(self) -> str: ...


@runtime_checkable
class Mixture2D(Protocol):
    """2-D points from a mixture whose modes are known."""

    @property
    def modes(self) -> Tensor: ...

    @property
    def mode_std(self) -> float: ...


def labelled(datamodule: Any) -> int | None:
    """The datamodule's number of classes, or None for unlabelled data."""
    n = getattr(datamodule, "num_classes", None)
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{type(datamodule).__name__}.num_classes must be a positive int or None, got {n!r}")
    return n


def require_labels(datamodule: Any, who: str) -> int:
    """``labelled(datamodule)``, or a one-line UserError saying that ``who`` needs labelled data."""
    n = labelled(datamodule)
    if n is None:
        what = "no datamodule was given" if datamodule is None else f"{type(datamodule).__name__} has no num_classes"
        raise UserError(f"{who} needs labelled data: {what}. Use {LABELLED_DATA}, or a datamodule with "
                        "num_classes and class_names (see lit_gan.data.contract)")
    return n


def problems(datamodule: Any, items: int = 2) -> list[str]:
    """Where ``datamodule`` breaks the contract (``[]``: nowhere), from its attributes and the
    first ``items`` items of each split. Calls ``setup()``: the data must be there."""
    name = type(datamodule).__name__
    found: list[str] = []
    shape = getattr(datamodule, "data_shape", None)  # before setup, as the CLI reads it
    if not (isinstance(shape, tuple) and shape and all(isinstance(s, int) and s > 0 for s in shape)):
        return [f"{name}.data_shape must be a tuple of positive ints before setup(), got {shape!r}"]
    n = labelled(datamodule)
    if n is not None:
        names = getattr(datamodule, "class_names", None)
        if names is None or len(names) != n:
            found.append(f"{name} has num_classes={n} but class_names={names!r}")
    datamodule.setup("fit")
    datamodule.setup("test")
    for split in SPLITS:
        if not hasattr(datamodule, f"{split}_set"):
            found.append(f"{name} has no {split}_set attribute (None when there is no such split)")
            continue
        dataset = getattr(datamodule, f"{split}_set")
        if dataset is None or len(dataset) == 0:
            if split == "train":
                found.append(f"{name}.train_set is empty after setup()")
            continue
        for i in range(min(items, len(dataset))):
            found += _item_problems(f"{name}.{split}_set[{i}]", dataset[i], shape, n)
    if isinstance(datamodule, Unpaired):
        for split in ("train", "test"):
            for domain in ("A", "B"):
                try:
                    dataset = datamodule.domain_set(split, domain)
                except FileNotFoundError:  # a split the data does not have
                    continue
                found += _item_problems(f"{name}.domain_set({split!r}, {domain!r})[0]", dataset[0], shape, None)
    direction = getattr(datamodule, "direction", None)
    if direction is not None and direction not in ("AtoB", "BtoA"):
        found.append(f"{name}.direction must be 'AtoB' or 'BtoA', got {direction!r}")
    if hasattr(datamodule, "modes") or hasattr(datamodule, "mode_std"):
        modes, std = getattr(datamodule, "modes", None), getattr(datamodule, "mode_std", None)
        if not (isinstance(modes, Tensor) and modes.dim() == 2 and modes.shape[1:] == shape):
            found.append(f"{name}.modes must be a (K, {', '.join(map(str, shape))}) tensor, got {modes!r}")
        if not (isinstance(std, float) and std > 0):
            found.append(f"{name}.mode_std must be a positive float, got {std!r}")
    return found


def _item_problems(where: str, item: Any, shape: tuple[int, ...], num_classes: int | None) -> list[str]:
    x = item if isinstance(item, Tensor) else item[0] if isinstance(item, (tuple, list)) and item else None
    if not isinstance(x, Tensor):
        return [f"{where}: expected a tensor or a tuple whose first field is one, got {type(item).__name__}"]
    found = []
    if tuple(x.shape) != shape or x.dtype != torch.float32:
        found.append(f"{where}: x is {x.dtype} {tuple(x.shape)}, expected float32 {shape} (data_shape)")
    elif not torch.isfinite(x).all():
        found.append(f"{where}: x holds NaN or inf")
    elif len(shape) == 3 and not (x.min() >= -1 and x.max() <= 1):
        found.append(f"{where}: image values span [{x.min():.3f}, {x.max():.3f}], expected [-1, 1]")
    if num_classes is not None:
        y = item[1] if isinstance(item, (tuple, list)) and len(item) > 1 else None
        y = y.item() if isinstance(y, Tensor) and y.numel() == 1 else y
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < num_classes:
            found.append(f"{where}: label {y!r} is not an int in [0, {num_classes})")
    return found
