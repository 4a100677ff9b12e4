"""What an image-to-image checkpoint is evaluated on: its translations of a split's inputs
against that split's real images of the target domain (pix2pix facades: 106 test
images; CycleGAN: testA -> compared with testB, or the reverse)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from lit_gan.conversion import to_uint8
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


@dataclass
class Translated:
    """One batch of a translation pass, float in [-1, 1] on the model's device: the inputs, their
    translations and, when asked for, each input's partner (``partner_set``)."""

    inputs: Tensor
    translations: Tensor
    partners: Tensor | None = None


def partner_set(datamodule, split: str, direction: str, source: Dataset) -> tuple[Dataset, int]:
    """(dataset, item field) of the image paired with each input, where item i of ``source`` meets
    item i % len of the dataset: paired data, the target of the same item; unpaired, the other
    domain's images (as the CycleGAN test loader pairs them: A[i] with B[i % |B|])."""
    if hasattr(datamodule, "domain_set"):
        return datamodule.domain_set(split, "B" if direction == "AtoB" else "A"), 0
    return source, 0


def _loader(dataset: Dataset, indices: list[int], batch_size: int) -> DataLoader:
    # its own generator: a DataLoader iterator draws a base seed, which must not move the global RNG
    return DataLoader(Subset(dataset, indices), batch_size=batch_size, shuffle=False, generator=torch.Generator())


def translated_items(model, source: Dataset, field: int, direction: str, batch_size: int,
                     partners: tuple[Dataset, int] | None = None) -> Callable[[range], Iterator[Translated]]:
    """``items(rows)``: the translations of inputs ``rows`` (with their partners), batch by batch."""

    def items(rows: range) -> Iterator[Translated]:
        loader = _loader(source, list(rows), batch_size)
        same_item = partners is not None and partners[0] is source  # paired data: read each file once
        others = None
        if partners is not None and not same_item:
            others = iter(_loader(partners[0], [i % len(partners[0]) for i in rows], batch_size))
        for batch in loader:
            translations = model.translate(batch[field], direction)  # on the model's device
            partner = None
            if partners is not None:
                partner = (batch if same_item else next(others))[partners[1]].to(translations.device)
            yield Translated(batch[field].to(translations.device), translations, partner)

    return items


def translated_batches(model, source: Dataset, field: int, direction: str, batch_size: int
                       ) -> Callable[[range], Iterable[Tensor]]:
    """``fake_batches(rows)`` for Evaluator.evaluate: uint8 translations of inputs ``rows``."""

    def batches(rows: range):
        for item in translated_items(model, source, field, direction, batch_size)(rows):
            yield to_uint8(item.translations).cpu()

    return batches
