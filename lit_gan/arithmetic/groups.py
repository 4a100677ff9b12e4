"""Groups of samples chosen by a classifier, for latent arithmetic (lit_gan.arithmetic.expression).

A single-label classifier (``train-classifier``'s extractors: logits (N, K), meta
``class_names``) picks, for a group ``sandal``, the samples it predicts as Sandal (argmax of
the logits) and ranks them by that class's softmax probability. A multi-label attribute
classifier (meta ``multilabel: true`` and ``attribute_names``; one logit per attribute,
present when the logit is > 0, absent when < 0) picks the samples that meet every term of a
conjunction such as ``Eyeglasses & not Male`` and ranks them by the weakest term's
probability (sigmoid of the logit, or of minus the logit for ``not``). The K best, ties
broken by the lower index, are the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lit_gan.arithmetic.expression import ArithmeticInputError, Term, normalise


@dataclass(frozen=True)
class Vocabulary:
    """What a classifier's logits mean: their names (or None) and whether they are attributes."""

    source: str
    names: tuple[str, ...] | None
    multilabel: bool

    @classmethod
    def from_meta(cls, source: str, meta: dict[str, Any]) -> "Vocabulary":
        multilabel = bool(meta.get("multilabel"))
        names = meta.get("attribute_names") if multilabel else meta.get("class_names")
        return cls(source, tuple(str(n) for n in names) if names else None, multilabel)

    @property
    def kind(self) -> str:
        return "attribute" if self.multilabel else "class"

    @property
    def kinds(self) -> str:
        return "attributes" if self.multilabel else "classes"

    def listing(self) -> str:
        return ", ".join(f"#{i} {n}" for i, n in enumerate(self.names or ()))


@dataclass(frozen=True)
class Criterion:
    """Which samples belong to a group: logit ``columns``, each required ``present`` or not."""

    text: str
    description: str
    columns: tuple[int, ...]
    present: tuple[bool, ...]
    multilabel: bool

    def judge(self, logits: Tensor) -> tuple[Tensor, Tensor]:
        """(member mask (N,), confidence (N,) in [0, 1]) for logits (N, K)."""
        logits = logits.double()
        if not self.multilabel:
            column = self.columns[0]
            return logits.argmax(1) == column, logits.softmax(1)[:, column]
        signs = logits.new_tensor([1.0 if p else -1.0 for p in self.present])
        margins = logits[:, list(self.columns)] * signs
        return (margins > 0).all(1), margins.sigmoid().min(1).values


def _column(literal, term: Term, vocab: Vocabulary, width: int | None) -> tuple[int, str]:
    count = len(vocab.names) if vocab.names is not None else width
    if literal.index is not None:
        if count is not None and not 0 <= literal.index < count:
            raise ArithmeticInputError(f"group {term.text!r}: {vocab.kind} #{literal.index} is out of range; "
                                       f"{vocab.source} has {vocab.kinds} #0..#{count - 1}")
        name = vocab.names[literal.index] if vocab.names is not None else f"#{literal.index}"
        return literal.index, name
    if vocab.names is None:
        raise ArithmeticInputError(f"group {term.text!r}: {vocab.source} has no {vocab.kind} names in its meta "
                                   f"({'attribute_names' if vocab.multilabel else 'class_names'}); "
                                   f"name {vocab.kinds} by index instead, e.g. #3")
    matches = [i for i, n in enumerate(vocab.names) if normalise(n) == literal.name]
    if not matches:
        raise ArithmeticInputError(f"unknown {vocab.kind} {literal.name!r} in group {term.text!r}; {vocab.source} "
                                   f"knows {vocab.listing()}")
    return matches[0], vocab.names[matches[0]]


def criterion_for(term: Term, vocab: Vocabulary, width: int | None = None) -> Criterion:
    """The criterion of a named group, or an error saying why this classifier cannot judge it."""
    if term.literals is None:
        raise ValueError(f"group {term.text!r} is given by indices; it needs no classifier")
    if term.is_conjunction and not vocab.multilabel:
        raise ArithmeticInputError(
            f"group {term.text!r} is an attribute conjunction ('&' / 'not'), but {vocab.source} is a single-label "
            "classifier (one class per image): write one class per group, or use a multi-label attribute "
            "classifier (meta multilabel: true, attribute_names)")
    columns, present, words = [], [], []
    for literal in term.literals:
        column, name = _column(literal, term, vocab, width)
        if column in columns:
            raise ArithmeticInputError(f"group {term.text!r} names {vocab.kind} {name!r} twice")
        columns.append(column)
        present.append(not literal.negated)
        words.append(("not " if literal.negated else "") + name)
    return Criterion(term.text, " & ".join(words), tuple(columns), tuple(present), vocab.multilabel)


def pick_members(logits: Tensor, criterion: Criterion, k: int, pool: str, advice: str) -> tuple[Tensor, Tensor]:
    """(indices (k,), confidences (k,)): the k most confident members, best first.

    ``pool`` says what was searched (e.g. "the 2000 searched samples of seed 0") and
    ``advice`` what to change when fewer than k qualify.
    """
    mask, confidence = criterion.judge(logits)
    found = int(mask.sum())
    if found < k:
        raise ArithmeticInputError(
            f"group {criterion.text!r} ({criterion.description}): {found} of {pool} "
            f"{'are' if found != 1 else 'is'} classified so, {k} needed; {advice}")
    candidates = mask.nonzero().flatten()
    order = torch.sort(-confidence[candidates], stable=True).indices[:k]
    chosen = candidates[order]
    return chosen, confidence[chosen]
