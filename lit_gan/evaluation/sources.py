"""What an evaluation scores: samples of a generator, translations of an image-to-image
model, or a samples file written by ``generate``. Each gives its samples by index range
(so K processes each take a shard), their labels when conditional, and the real images it
is compared with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lit_gan.conversion import to_uint8
from lit_gan.errors import CommandError
from lit_gan.evaluation.real import real_images_and_labels
from lit_gan.evaluation.sampling import LabelPlan, is_sampler, is_translator, label_plan, sample_rows
from lit_gan.evaluation.translation import (Translated, translated_batches, translated_items, translation_labels,
                                            translation_sets)


class Source:
    num: int
    shape: tuple[int, ...]  # one sample's shape, (C, H, W) or (2,)
    label_classes: int | None = None  # classes of the labels samples were made for (conditional)

    def uint8_batches(self, rows: range, batch_size: int) -> Iterable[Tensor]:
        raise NotImplementedError

    def float_batches(self, rows: range, batch_size: int) -> Iterable[Tensor] | None:
        """G's outputs before rounding (Parzen, 2-D points), or None when only uint8 exists."""
        return None

    def labels(self, rows: range) -> Tensor | None:
        return None

    def real(self, datamodule, split: str, num_real: int | None, domain: str | None) -> tuple[Tensor, Tensor | None]:
        """Real uint8 images (and their classes) compared with this source."""
        return real_images_and_labels(datamodule, split, num_real, domain=domain)

    def card(self) -> dict[str, Any]:
        raise NotImplementedError


class GeneratorSource(Source):
    """``num`` samples of ``seed`` from a Sampler; labels from ``plan`` (conditional models)."""

    def __init__(self, model, num: int, seed: int, plan: LabelPlan | None = None, ckpt: str | None = None) -> None:
        if not is_sampler(model):
            raise CommandError(f"{type(model).__name__} checkpoints cannot sample from noise "
                               "(use `translate` for image-to-image models)")
        self.model, self.num, self.seed, self.ckpt = model, num, seed, ckpt
        self.shape = tuple(model.data_shape)
        self.plan = plan if plan is not None else label_plan(model)
        self.label_classes = self.plan.num_classes if self.plan is not None else None

    def float_batches(self, rows: range, batch_size: int) -> Iterable[Tensor]:
        return sample_rows(self.model, self.num, self.seed, rows, batch_size, self.plan)

    def uint8_batches(self, rows: range, batch_size: int) -> Iterable[Tensor]:
        return (to_uint8(b) for b in self.float_batches(rows, batch_size))

    def labels(self, rows: range) -> Tensor | None:
        return self.plan.labels(rows) if self.plan is not None else None

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = {"ckpt": self.ckpt} if self.ckpt else {}
        if self.plan is not None:
            card["labels"] = {"num_classes": self.plan.num_classes,
                              "plan": (f"{self.plan.per_class} per class, in class order" if self.plan.per_class
                                       else f"cycled: {list(self.plan.cycle)}" if self.plan.cycle
                                       else "cycled: 0, 1, ..., K-1, 0, ...")}
        return card


class TranslationSource(Source):
    """Translations of a split's inputs; compared with that split's real targets. Where the data
    knows each input's intended class (translation_labels), those are the labels, so a
    classifier's ``accuracy`` is the translations' class score (Isola et al. 2017's FCN-score idea)."""

    def __init__(self, model, datamodule, split: str, direction: str | None, ckpt: str | None = None) -> None:
        if not is_translator(model):
            raise CommandError(f"{type(model).__name__} checkpoints cannot translate")
        self.model, self.ckpt, self.datamodule, self.split = model, ckpt, datamodule, split
        self.direction = direction or model.default_direction
        split_set = translation_sets(datamodule, split, self.direction)  # the split decoded once, kept if it fits
        self.inputs, self.field, self.targets, self.partners = (split_set.inputs, split_set.field, split_set.real,
                                                                split_set.partners)
        self.num, self.shape = len(self.inputs), tuple(self.targets.shape[1:])
        known = translation_labels(datamodule, self.inputs, self.direction)
        self._labels, self.label_classes = known if known is not None else (None, None)

    def labels(self, rows: range) -> Tensor | None:
        return self._labels[rows.start : rows.stop] if self._labels is not None else None

    def uint8_batches(self, rows: range, batch_size: int) -> Iterable[Tensor]:
        return translated_batches(self.model, self.inputs, self.field, self.direction, batch_size)(rows)

    def translated(self, rows: range, batch_size: int, partners: bool = False) -> Iterable[Translated]:
        """Float batches: inputs ``rows``, their translations and (``partners``) each one's pair."""
        pairs = self.partners if partners else None
        return translated_items(self.model, self.inputs, self.field, self.direction, batch_size, pairs)(rows)

    def real(self, datamodule, split: str, num_real: int | None, domain: str | None) -> tuple[Tensor, Tensor | None]:
        return self.targets, None

    def card(self) -> dict[str, Any]:
        card = {**({"ckpt": self.ckpt} if self.ckpt else {}), "translation": self.direction}
        if self._labels is not None:
            card["labels"] = {"num_classes": self.label_classes, "plan": "each input's target class, from the dataset"}
        return card


class FileSource(Source):
    """A ``generate`` .npz: ``samples`` (uint8 N x H x W x C), optional ``samples_float``
    (float32, [-1, 1]) and ``labels`` (int64 N, of a conditional model)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            with np.load(path) as data:
                samples = data["samples"]
                floats = data["samples_float"] if "samples_float" in data.files else None
                labels = data["labels"] if "labels" in data.files else None
                classes = int(data["num_classes"]) if "num_classes" in data.files else None
        except (OSError, KeyError, ValueError) as err:
            raise CommandError(f"{path}: not a samples file from `generate` (needs an array 'samples'): {err}") from None
        if samples.dtype != np.uint8 or samples.ndim != 4:
            raise CommandError(f"{path}: image metrics need uint8 images N x H x W x C, got {samples.dtype} {samples.shape}")
        if floats is not None and (floats.dtype != np.float32 or floats.shape != samples.shape):
            raise CommandError(f"{path}: samples_float must be float32 {samples.shape}, got {floats.dtype} {floats.shape}")
        if labels is not None and (labels.shape != (len(samples),) or labels.dtype.kind not in "iu"):
            raise CommandError(f"{path}: labels must be integers, one per sample, got {labels.dtype} {labels.shape}")
        self.samples = torch.from_numpy(samples).permute(0, 3, 1, 2).contiguous()
        self.floats = torch.from_numpy(floats).permute(0, 3, 1, 2).contiguous() if floats is not None else None
        self._labels = torch.from_numpy(labels.astype(np.int64)) if labels is not None else None
        self.label_classes = classes if labels is not None else None
        if self._labels is not None and self.label_classes is None:
            self.label_classes = int(self._labels.max()) + 1 if len(self._labels) else None
        self.num, self.shape = len(self.samples), tuple(self.samples.shape[1:])

    def uint8_batches(self, rows: range, batch_size: int) -> Iterable[Tensor]:
        return self.samples[rows.start : rows.stop].split(batch_size)

    def float_batches(self, rows: range, batch_size: int) -> Iterable[Tensor] | None:
        return self.floats[rows.start : rows.stop].split(batch_size) if self.floats is not None else None

    def labels(self, rows: range) -> Tensor | None:
        return self._labels[rows.start : rows.stop] if self._labels is not None else None

    def card(self) -> dict[str, Any]:
        return {"samples": self.path, **({"labels": "from the file"} if self._labels is not None else {})}


def model_source(model, datamodule, protocol, ckpt: str | None = None, direction: str | None = None,
                 plan: LabelPlan | None = None) -> Source:
    """A checkpoint's model as a Source: translations for a Translator, samples otherwise."""
    if is_translator(model):
        return TranslationSource(model, datamodule, protocol.split, direction, ckpt)
    if not is_sampler(model):
        raise CommandError(f"{type(model).__name__} checkpoints can neither sample nor translate")
    return GeneratorSource(model, protocol.num_samples, protocol.seed, plan, ckpt)
