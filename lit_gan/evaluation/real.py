"""Real images of a datamodule's split, read directly from its Dataset (never through a
DistributedSampler, which pads with duplicates), as uint8 (N, C, H, W)."""

from __future__ import annotations

import torch
from torch import Tensor

from lit_gan.conversion import to_uint8

STAGE_OF_SPLIT = {"train": "fit", "val": "fit", "test": "test"}


def split_dataset(datamodule, split: str):
    """The Dataset behind a split: ``<split>_set`` if the datamodule has one, else the
    dataset of its ``<split>_dataloader()`` (a loader built outside the Trainer has no
    DistributedSampler, and its ``.dataset`` ignores shuffling)."""
    dataset = getattr(datamodule, f"{split}_set", None)
    if dataset is None:
        datamodule.setup(STAGE_OF_SPLIT[split])
        dataset = getattr(datamodule, f"{split}_set", None)
    if dataset is None:
        loader = getattr(datamodule, f"{split}_dataloader", lambda: None)()
        dataset = getattr(loader, "dataset", None)
    if dataset is None:
        raise ValueError(f"{type(datamodule).__name__} has no {split} split; choose another split")
    return dataset


def _dataset(datamodule, split: str, domain: str | None):
    if domain is None:
        return split_dataset(datamodule, split)
    if not hasattr(datamodule, "domain_set"):
        raise ValueError(f"{type(datamodule).__name__} has no domains; leave the domain unset")
    return datamodule.domain_set(split, domain)


def real_images_and_labels(datamodule, split: str, limit: int | None = None, batch_size: int = 500,
                           domain: str | None = None) -> tuple[Tensor, Tensor | None]:
    """The first ``limit`` images of a split (all when None) as uint8 (N, C, H, W), and their
    int64 class labels when the items carry them (``(x, label)`` with an integer label);
    ``domain`` (A or B) picks one side of an unpaired datamodule (monet2photo's testB)."""
    dataset = _dataset(datamodule, split, domain)
    n = len(dataset) if limit is None else limit
    if n > len(dataset):
        raise ValueError(f"num_real={n} but the {split} split has only {len(dataset)} images")
    subset = torch.utils.data.Subset(dataset, range(n))
    # its own generator: a DataLoader iterator draws a base seed from the global RNG, which would
    # move the training noise of a fit whose metrics callback reads the real images
    loader = torch.utils.data.DataLoader(subset, batch_size=batch_size, shuffle=False, generator=torch.Generator())
    images, labels = [], []
    for batch in loader:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        images.append(to_uint8(x))
        y = batch[1] if isinstance(batch, (tuple, list)) and len(batch) > 1 else None
        labels.append(y if isinstance(y, Tensor) and y.dim() == 1 and not y.is_floating_point() else None)
    out = torch.cat(images)
    if out.dim() != 4:
        raise ValueError(f"image metrics need images (N, C, H, W); the {split} split holds shape {tuple(out.shape)}")
    return out, (torch.cat(labels).long() if labels and all(y is not None for y in labels) else None)


def real_images(datamodule, split: str, limit: int | None = None, batch_size: int = 500,
                domain: str | None = None) -> Tensor:
    """uint8 (N, C, H, W) images only: see ``real_images_and_labels``."""
    return real_images_and_labels(datamodule, split, limit, batch_size, domain)[0]
