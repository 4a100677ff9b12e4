"""What an image-to-image checkpoint is evaluated on: its translations of a split's inputs
against that split's real images of the target domain (pix2pix facades: 106 test
images; CycleGAN: testA -> compared with testB, or the reverse)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from lit_gan.metrics.conversion import to_uint8
from lit_gan.evaluation.real import split_dataset


def translation_sets(datamodule, split: str, direction: str) -> tuple[Dataset, int, Tensor]:
    """(dataset of inputs, which item field is the input, real target images as uint8)."""
    if hasattr(datamodule, "domain_set"):  # unpaired: one folder per domain
        source_domain, target_domain = ("A", "B") if direction == "AtoB" else ("B", "A")
        source, target = datamodule.domain_set(split, source_domain), datamodule.domain_set(split, target_domain)
        field = 0
    else:  # paired: items (target, input, name), the direction already applied by the datamodule
        data_direction = getattr(datamodule, "direction", direction)
        if data_direction != direction:
            raise ValueError(f"the data is set up for {data_direction}; pass --direction {data_direction} "
                             f"or --data.init_args.direction={direction}")
        source = target = split_dataset(datamodule, split)
        field = 1
    loader = DataLoader(target, batch_size=64, shuffle=False)
    real = torch.cat([to_uint8(batch[0]) for batch in loader])
    return source, field, real


def translation_classes(datamodule) -> dict | None:
    """The dataset.json of a dataset `prepare` made from a labelled source (its ``class_names``,
    and for a class pair which class each domain is); None for other data."""
    from lit_gan.data.derived import read_info

    folder = getattr(datamodule, "folder", None)
    info = read_info(Path(folder)) if folder is not None else None
    return info if info is not None and info.get("class_names") else None


def translation_labels(datamodule, source: Dataset, direction: str) -> tuple[Tensor, int] | None:
    """The class each translation of ``source`` should show, and the number of classes, where the
    data knows them (the datasets made by `prepare` from a labelled source): pix2pix's
    edges2fashion keeps each item's class in its file name; a class pair (sneaker2boot) gives
    every A -> B translation class B. None for data without classes (facades, monet2photo)."""
    from lit_gan.data.derived import class_of_name

    info = translation_classes(datamodule)
    if info is None:
        return None
    num_classes = len(info["class_names"])
    if hasattr(datamodule, "domain_set"):
        target_domain = "B" if direction == "AtoB" else "A"
        return torch.full((len(source),), int(info[target_domain]["class"]), dtype=torch.long), num_classes  # cpu: target labels, moved to the metric's device by the registry
    return torch.tensor([class_of_name(name) for name in source.names], dtype=torch.long), num_classes  # cpu: target labels, moved to the metric's device by the registry


def translated_batches(model, source: Dataset, field: int, direction: str, batch_size: int
                       ) -> Callable[[range], Iterable[Tensor]]:
    """``fake_batches(rows)`` for Evaluator.evaluate: uint8 translations of inputs ``rows``."""

    def batches(rows: range):
        loader = DataLoader(Subset(source, list(rows)), batch_size=batch_size, shuffle=False)
        for batch in loader:
            yield to_uint8(model.translate(batch[field], direction)).cpu()

    return batches
