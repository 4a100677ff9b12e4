"""Latent vector arithmetic (Radford et al. 2015, sec. 6.3, Fig. 7): the expression and its algebra.

An expression is groups joined by ``+`` and ``-``, each operator a word of its own (spaces
around it: class names such as ``T-shirt/top`` contain ``-``)::

    3,17,42 - 5,9,11 + 8,21,30                 sample indices of the seed, comma-separated
    sandal - sneaker + ankle boot               classes of a classifier, by name (any case)
    #5 - #7 + #9                                ... or by index
    Eyeglasses & Male - Male & not Eyeglasses + not Male & not Eyeglasses
                                                attributes of a multi-label classifier: a
                                                conjunction of names, each maybe with ``not``

Each group stands for the mean of its members' z; the result is the signed sum of the
means (u - v + w for three groups). Fig. 7's caption: "The center sample on the right hand
side is produce[d] by feeding Y as input to the generator. [...] uniform noise sampled with
scale +-0.25 was added to Y to produce the 8 other samples" (``neighbourhood``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import Tensor

from lit_gan.errors import UserError

PAPER_NOISE_SCALE = 0.25  # Radford et al. 2015, Fig. 7: uniform noise of scale +-0.25 around Y
PAPER_PER_GROUP = 3  # sec. 6.3.2: "averaging the Z vector for three examples showed consistent [...] generations"

OPERATOR = re.compile(r"(?<!\S)([+-])(?!\S)")  # a + or - standing alone between spaces
INDICES = re.compile(r"\d+(?:\s*,\s*\d+)*")
NEGATION = re.compile(r"not\s+(.+)", re.IGNORECASE)
SYNTAX = ("groups joined by ' + ' and ' - ' (spaces around them), e.g. \"3,17,42 - 5,9,11 + 8,21,30\", "
          "\"sandal - sneaker + ankle boot\" or \"Eyeglasses & Male - Male + not Male\"")


class ArithmeticInputError(UserError):
    """An expression, group or option that latent arithmetic cannot use; the message says why."""


@dataclass(frozen=True)
class Literal:
    """One class or attribute: by (normalised) name or by index (``#k``); ``negated`` for ``not X``."""

    name: str | None = None
    index: int | None = None
    negated: bool = False

    def __str__(self) -> str:
        return ("not " if self.negated else "") + (self.name if self.name is not None else f"#{self.index}")


@dataclass(frozen=True)
class Term:
    """A signed group: sample ``indices`` of the seed, or ``literals`` a classifier chooses by."""

    sign: int
    text: str
    indices: tuple[int, ...] | None = None
    literals: tuple[Literal, ...] | None = None

    @property
    def is_conjunction(self) -> bool:
        """Written with attribute syntax (``&`` or ``not``): needs a multi-label classifier."""
        return self.literals is not None and (len(self.literals) > 1 or self.literals[0].negated)


def normalise(name: str) -> str:
    """How names are compared: case-insensitive, runs of spaces as one."""
    return " ".join(name.split()).casefold()


def _malformed(text: str, why: str) -> ArithmeticInputError:
    return ArithmeticInputError(f"--expr {text!r}: {why}; write {SYNTAX}")


def _literal(part: str, group: str, expression: str) -> Literal:
    part = part.strip()
    negated = NEGATION.fullmatch(part)
    if negated:
        part = negated.group(1).strip()
    if not part:
        raise _malformed(expression, f"group {group!r} has an empty term")
    if part.startswith("#"):
        if not part[1:].isdigit():
            raise _malformed(expression, f"{part!r} in group {group!r}: '#' must be followed by a class index")
        return Literal(index=int(part[1:]), negated=bool(negated))
    return Literal(name=normalise(part), negated=bool(negated))


def _term(sign: int, group: str, expression: str) -> Term:
    if INDICES.fullmatch(group):
        indices = tuple(int(i) for i in group.split(","))
        twice = sorted({i for i in indices if indices.count(i) > 1})
        if twice:
            raise _malformed(expression, f"index {twice[0]} appears twice in group {group!r}")
        return Term(sign, group, indices=indices)
    if re.fullmatch(r"[\d,\s#+-]+", group) and not group.startswith("#"):
        raise _malformed(expression, f"cannot read group {group!r} (indices are separated by commas, "
                                     "and + / - need spaces around them)")
    literals = tuple(_literal(part, group, expression) for part in group.split("&"))
    return Term(sign, group, literals=literals)


def parse_expression(text: str) -> list[Term]:
    """``"a - b + c"`` -> [Term(+1, a), Term(-1, b), Term(+1, c)]; a leading sign is allowed."""
    pieces = OPERATOR.split(text.strip())  # [group, op, group, op, group, ...]
    if pieces[0].strip() == "" and len(pieces) > 1:  # "- a + b": the first group is signed
        pieces = pieces[1:]
    else:
        pieces = ["+", *pieces]
    terms = []
    for op, group in zip(pieces[0::2], pieces[1::2]):
        group = " ".join(group.split())
        if not group:
            raise _malformed(text, "an operator has no group after it" if text.strip() else "the expression is empty")
        terms.append(_term(1 if op == "+" else -1, group, text))
    if not terms:
        raise _malformed(text, "the expression is empty")
    return terms


def group_means(group_z: list[Tensor]) -> Tensor:
    """(G, D): the mean z of each group (each (K_g, D))."""
    return torch.stack([z.mean(0) for z in group_z])


def combine(means: Tensor, signs: list[int] | tuple[int, ...]) -> Tensor:
    """sum_g sign_g * mean_g: u - v + w for signs (+1, -1, +1)."""
    if means.shape[0] != len(signs):
        raise ValueError(f"{means.shape[0]} group means but {len(signs)} signs")
    weights = torch.tensor([float(s) for s in signs], dtype=means.dtype, device=means.device)
    return (weights[:, None] * means).sum(0)


def neighbourhood(center: Tensor, scale: float, generator: torch.Generator) -> Tensor:
    """(9, D): row 4 (the middle of a 3 x 3 grid) is ``center`` itself, the 8 others are
    ``center + U(-scale, scale)`` noise drawn from ``generator`` (Fig. 7)."""
    noise = (torch.rand(8, center.shape[0], generator=generator, dtype=center.dtype) * 2 - 1) * scale  # cpu: drawn from a CPU generator, moved below
    around = center.cpu()[None] + noise
    return torch.cat([around[:4], center.cpu()[None], around[4:]]).to(center.device)
