"""The sampling protocols, and "sample i of seed s" written once.

Every reader of a model (``generate``, ``evaluate``, the metric and image callbacks,
``reproduce``) goes through the two small protocols below, never a model's own fields:

- ``Sampler``: a noise-to-image (or -point) model; sample i of seed s is
  ``generate(z_i, y_i)`` with z_i the i-th row of ``fixed_noise(model, N, s)`` and, for a
  class-conditional model (``num_classes`` set), y_i from a ``LabelPlan``.
- ``Translator``: an image-to-image model, ``translate(x, direction)``.

The same z whatever the batch size, device or number of processes: z is drawn on the
CPU in fixed chunks from one seeded generator; a batch size only splits G's work.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

NOISE_CHUNK = 1024  # z is drawn in chunks of this size, independent of any batch size


@runtime_checkable
class Sampler(Protocol):
    """What sampling reads from a noise-to-image model (lit_gan.models.GAN and its family)."""

    data_shape: tuple[int, ...]
    num_classes: int | None  # None: unconditional; K: labels 0..K-1 go with z

    @property
    def sample_group(self) -> int | None:
        """Samples that share BatchNorm statistics (``sample_mode: batch_stats``), else None."""

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor: ...

    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor: ...


@runtime_checkable
class Translator(Protocol):
    """What evaluation reads from an image-to-image model (pix2pix, CycleGAN)."""

    directions: tuple[str, ...]

    @property
    def default_direction(self) -> str: ...

    def translate(self, x: Tensor, direction: str | None = None) -> Tensor: ...


def is_sampler(model) -> bool:
    return all(callable(getattr(model, name, None)) for name in ("noise", "generate"))


def is_translator(model) -> bool:
    return callable(getattr(model, "translate", None))


class LabelError(ValueError):
    """Labels that this model or command cannot take; the message says what to do."""


@dataclass(frozen=True)
class LabelPlan:
    """The label of sample i, a pure function of i (so any shard knows its labels).

    ``cycle``: y_i = cycle[i % len(cycle)] (default: 0, 1, ..., C-1, 0, 1, ... for C =
    ``num_classes``: labels uniformly cycled); ``per_class`` = M: M samples of every class in
    class order, y_i = i // M.
    """

    num_classes: int
    cycle: tuple[int, ...] | None = None
    per_class: int | None = None

    def __post_init__(self) -> None:
        if self.cycle is not None and self.per_class is not None:
            raise LabelError("give labels either as a list to cycle or as a count per class, not both")
        if self.cycle is not None:
            if not self.cycle:
                raise LabelError("the label list is empty")
            bad = [y for y in self.cycle if not 0 <= y < self.num_classes]
            if bad:
                raise LabelError(f"labels {bad} are out of range: this model has classes 0..{self.num_classes - 1}")
        if self.per_class is not None and self.per_class < 1:
            raise LabelError(f"the count per class must be >= 1, got {self.per_class}")

    @property
    def total(self) -> int | None:
        """How many samples the plan asks for (per_class x classes), or None (any number)."""
        return self.per_class * self.num_classes if self.per_class is not None else None

    def labels(self, rows: range) -> Tensor:
        index = torch.arange(rows.start, rows.stop)  # cpu: sample labels, moved by the model's check_labels
        if self.per_class is not None:
            return index // self.per_class
        cycle = torch.tensor(self.cycle if self.cycle is not None else range(self.num_classes), dtype=torch.long)  # cpu: sample labels, moved by the model's check_labels
        return cycle[index % len(cycle)]


def label_plan(model, labels: Sequence[int] | None = None, per_class: int | None = None) -> LabelPlan | None:
    """The plan for ``model``: None for an unconditional one (which then refuses labels)."""
    num_classes = getattr(model, "num_classes", None)
    if not num_classes:
        if labels is not None or per_class is not None:
            raise LabelError(f"{type(model).__name__} is unconditional: it takes no labels (drop --labels / --per-class)")
        return None
    return LabelPlan(int(num_classes), tuple(int(y) for y in labels) if labels is not None else None, per_class)


def fixed_noise(model, num: int, seed: int) -> Tensor:
    """z for samples 0..num-1 of ``seed`` (on the model's device), drawn on the CPU.

    Always whole chunks, cut to ``num``: torch's CPU ``randn`` fills a draw's last
    (size mod 16) numbers by another path, so a short last chunk gave its last sample other
    values than a longer draw does, and sample i depended on ``num``."""
    generator = torch.Generator().manual_seed(seed)
    chunks = [model.noise(NOISE_CHUNK, generator=generator) for _ in range(0, num, NOISE_CHUNK)]
    return torch.cat(chunks)[:num]


def sample_rows(model, num: int, seed: int, rows: range, batch_size: int,
                plan: LabelPlan | None = None) -> Iterator[Tensor]:
    """Float batches (on the CPU) of samples ``rows`` among the ``num`` samples of ``seed``.

    A conditional model gets y_i from ``plan`` (default: ``label_plan(model)``, labels
    cycled); ``plan.labels(rows)`` gives the same labels to whoever needs them.

    A model that samples with batch statistics (``model.sample_group`` = B, see
    lit_gan.models.gan.GAN's ``sample_mode``) makes sample i in the group of indices
    [B * (i // B), B * (i // B + 1)) of the whole set: whole groups are generated here and
    cut to ``rows``, so a sample is the same at any ``batch_size`` (ignored then: one group
    is one batch) and in any shard of K processes. Without groups, ``batch_size`` only
    splits G's work.
    """
    if rows.start < 0 or rows.stop > num or rows.step != 1:
        raise ValueError(f"rows {rows} must be a contiguous range inside 0..{num}")
    if len(rows) == 0:
        return
    if plan is None:
        plan = label_plan(model)
    group = getattr(model, "sample_group", None)
    z = fixed_noise(model, num, seed)

    def run(start: int, stop: int) -> Tensor:
        labels = plan.labels(range(start, stop)) if plan is not None else None
        return model.generate(z[start:stop], labels) if labels is not None else model.generate(z[start:stop])

    with torch.no_grad():
        if not group:
            for start in range(rows.start, rows.stop, batch_size):
                yield run(start, min(start + batch_size, rows.stop)).cpu()
            return
        for start in range(rows.start - rows.start % group, rows.stop, group):
            out = run(start, min(start + group, num)).cpu()
            lo, hi = max(rows.start - start, 0), min(rows.stop - start, len(out))
            yield out[lo:hi]


def all_samples(model, num: int, seed: int, plan: LabelPlan | None = None) -> Tensor:
    """All ``num`` samples of ``seed`` in one tensor (on the CPU): for pictures and small counts."""
    return torch.cat(list(sample_rows(model, num, seed, range(num), num, plan)))
