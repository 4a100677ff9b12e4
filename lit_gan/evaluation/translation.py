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


KEEP_BYTES = 2**31  # 2 GiB: a split whose decoded items fit is read once and kept in memory


@dataclass
class TranslationSplit:
    """What a translation evaluation reads: the ``inputs`` dataset (its item field ``field`` is
    the input), the ``real`` target images as uint8, and the ``partners`` (dataset, field): item
    i of the inputs meets item i % len of it (paired data: the target of the same item; unpaired,
    the other domain's images, as the CycleGAN test loader pairs A[i] with B[i % |B|]). Where the
    decoded split fits in ``KEEP_BYTES``, the datasets are the items read for ``real``, kept in
    memory, so the split is decoded once (not again by the translation pass)."""

    inputs: Dataset
    field: int
    real: Tensor
    partners: tuple[Dataset, int]


def translation_sets(datamodule, split: str, direction: str) -> TranslationSplit:
    """The inputs, their real targets and the partners of ``split``, ``direction``."""
    if hasattr(datamodule, "domain_set"):  # unpaired: one folder per domain; the partners are the targets
        source_domain, target_domain = ("A", "B") if direction == "AtoB" else ("B", "A")
        target, real = read_split(datamodule.domain_set(split, target_domain))
        return TranslationSplit(datamodule.domain_set(split, source_domain), 0, real, (target, 0))
    # paired: items (target, input, name), the direction already applied by the datamodule
    data_direction = getattr(datamodule, "direction", direction)
    if data_direction != direction:
        raise ValueError(f"the data is set up for {data_direction}; pass --direction {data_direction} "
                         f"or --data.init_args.direction={direction}")
    items, real = read_split(split_dataset(datamodule, split))
    return TranslationSplit(items, 1, real, (items, 0))


def read_split(dataset: Dataset) -> tuple[Dataset, Tensor]:
    """(the dataset, its field-0 images as uint8). The returned dataset holds the decoded items in
    memory when they fit in ``KEEP_BYTES`` (judged from the first item), else it is ``dataset``."""
    first = dataset[0]
    per_item = sum(f.numel() * f.element_size() for f in first if isinstance(f, Tensor))
    columns: list[list] | None = [[] for _ in first] if per_item * len(dataset) <= KEEP_BYTES else None
    images = []
    for batch in _loader(dataset, list(range(len(dataset))), 64):
        images.append(to_uint8(batch[0]))  # per batch: a split too large to keep is never held as float
        if columns is not None:
            for column, part in zip(columns, batch):
                column.append(part)
    real = torch.cat(images)
    if columns is None:
        return dataset, real
    return KeptItems([torch.cat(c) if isinstance(c[0], Tensor) else [x for part in c for x in part] for c in columns],
                     getattr(dataset, "names", None)), real


class KeptItems(Dataset):
    """A split's decoded items held in memory: item i is the tuple of field i of each column."""

    def __init__(self, columns: list, names: list[str] | None) -> None:
        self.columns, self.names = columns, names

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getitem__(self, index: int) -> tuple:
        return tuple(column[index] for column in self.columns)


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
    translations and, when asked for, each input's partner (``TranslationSplit.partners``)."""

    inputs: Tensor
    translations: Tensor
    partners: Tensor | None = None


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
