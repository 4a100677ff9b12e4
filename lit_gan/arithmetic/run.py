"""Latent arithmetic on a checkpoint: the pool, the groups, the one decoding batch, the .npz.

The pool is samples 0..N-1 of seed S (N = ``search``), exactly as ``generate --seed S
--num N`` makes them (lit_gan.evaluation.sampling: z is row i of ``fixed_noise``; a
conditional model's samples all get the one ``label``). Index groups pick from the pool
(an index >= N is refused); named groups are chosen by classifying the pool's images
(lit_gan.arithmetic.groups).

Decoding: every vector of the figure (the members, the group means, the result and its 8
noisy neighbours) goes through G in ONE call. With ``sample_mode: eval`` each image depends
on its z only, so a member's image is generate's sample i. With ``sample_mode:
batch_stats`` BatchNorm uses the batch's statistics, so that one batch is filled up to the
model's ``sample_batch_size`` with the seed's samples 0, 1, ... (statistics like those of a
generate batch, not of 20-odd hand-made vectors); members then look like, but are not
exactly, generate's samples. A figure with more vectors than ``sample_batch_size`` is refused.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from lit_gan.arithmetic.expression import (ArithmeticInputError, Term, combine, group_means, neighbourhood,
                                           parse_expression)
from lit_gan.arithmetic.groups import Vocabulary, criterion_for, pick_members
from lit_gan.conversion import to_uint8
from lit_gan.evaluation.sampling import LabelPlan, fixed_noise, is_sampler, sample_rows

NEIGHBOUR_SEED_OFFSET = 1_000_003  # the 3 x 3 noise has its own stream, not the pool's z


@dataclass
class ArithmeticResult:
    expression: str
    seed: int
    label: int | None
    search: int
    noise_scale: float
    terms: list[Term]
    descriptions: list[str]  # per group: its indices, or the class / conjunction it was chosen by
    indices: list[Tensor]  # per group (K_g,), int64
    scores: list[Tensor | None]  # per group: the classifier's confidence of each member (None for index groups)
    group_z: list[Tensor]  # per group (K_g, D)
    means: Tensor  # (G, D)
    result: Tensor  # (D,) = sum_g sign_g mean_g
    neighbours: Tensor  # (9, D); row 4 is ``result``
    member_images: list[Tensor]  # per group (K_g, C, H, W) in [-1, 1]
    mean_images: Tensor  # (G, C, H, W)
    neighbour_images: Tensor  # (9, C, H, W); row 4 is the result's image
    decoding: str  # how the batch was decoded (for the figure and the .npz)
    neighbour_logits: Tensor | None = field(default=None)  # the classifier's logits of the 9, when there is one


def resolve_label(model, label: str | None, class_names: list[str] | tuple[str, ...] | None) -> int | None:
    """--label as a class index or name for a conditional model; None for an unconditional one."""
    num_classes = getattr(model, "num_classes", None)
    if not num_classes:
        if label is not None:
            raise ArithmeticInputError(f"--label {label}: {type(model).__name__} is unconditional (it takes no "
                                       "labels); drop --label")
        return None
    names = list(class_names or [])
    known = ", ".join(f"{i} {n}" for i, n in enumerate(names)) if names else f"0..{num_classes - 1}"
    if label is None:
        raise ArithmeticInputError(f"{type(model).__name__} is class-conditional: give --label L, the class at "
                                   f"which z is varied ({known})")
    if label.strip().lstrip("-").isdigit():
        index = int(label)
    else:
        found = [i for i, n in enumerate(names) if " ".join(n.split()).casefold() == " ".join(label.split()).casefold()]
        index = found[0] if found else -1
    if not 0 <= index < num_classes:
        raise ArithmeticInputError(f"--label {label}: no such class; this model has {known}")
    return index


def _plan(model, label: int | None) -> LabelPlan | None:
    return LabelPlan(int(model.num_classes), cycle=(label,)) if label is not None else None


def pool_logits(model, search: int, seed: int, label: int | None, extractor, batch_size: int,
                progress: bool = False) -> Tensor:
    """The classifier's logits (N, K) of the pool's N images."""
    parts = []
    with tqdm(total=search, desc="classifying", unit="sample", file=sys.stderr, disable=not progress) as bar:
        for batch in sample_rows(model, search, seed, range(search), batch_size, _plan(model, label)):
            logits = extractor(to_uint8(batch)).logits
            if logits is None:
                raise ArithmeticInputError(f"{extractor.name} gives features but no class logits: it cannot choose "
                                           "groups by class; use a classifier (python -m lit_gan train-classifier)")
            parts.append(logits.cpu())  # picked and saved on the CPU; the extractor's device may be a GPU
            bar.update(batch.shape[0])
    return torch.cat(parts)


def decode_together(model, vectors: Tensor, label: int | None, seed: int) -> tuple[Tensor, str]:
    """G(vectors) in one batch (see the module's docstring); (images on the CPU, how)."""
    group = getattr(model, "sample_group", None)
    count = vectors.shape[0]
    z = vectors.to(model.device)
    note = "one batch, sample_mode eval: each image depends on its z only"
    if group:
        if count > group:
            raise ArithmeticInputError(f"the figure has {count} vectors but this model decodes with batch statistics "
                                       f"in batches of {group} (sample_batch_size): lower --per-group")
        z = torch.cat([z, fixed_noise(model, group, seed)[: group - count].to(model.device)])
        note = (f"one batch of {group} (sample_mode batch_stats): the figure's {count} vectors + samples "
                f"0..{group - count - 1} of seed {seed}")
    labels = torch.full((z.shape[0],), label, dtype=torch.long) if label is not None else None  # cpu: labels / indices, moved by the model or used to index
    with torch.no_grad():
        images = model.generate(z, labels) if labels is not None else model.generate(z)
    return images[:count].float().cpu(), note


def run_arithmetic(model, expression: str, seed: int = 0, search: int = 2000, per_group: int = 3, extractor=None,
                   label: int | None = None, noise_scale: float = 0.25, batch_size: int = 256,
                   progress: bool = False) -> ArithmeticResult:
    """Parse, choose the groups, combine and decode: everything the figure and the .npz show."""
    if not is_sampler(model):
        raise ArithmeticInputError(f"{type(model).__name__} checkpoints cannot sample from noise, so they have no "
                                   "latent space to do arithmetic in (image-to-image models: use `translate`)")
    if len(getattr(model, "data_shape", ())) != 3:
        raise ArithmeticInputError("latent arithmetic draws images; this model makes 2-D points")
    for name, value in (("--search", search), ("--per-group", per_group), ("--batch-size", batch_size)):
        if value < 1:
            raise ArithmeticInputError(f"{name} must be >= 1, got {value}")
    if not noise_scale >= 0:
        raise ArithmeticInputError(f"--noise-scale must be >= 0, got {noise_scale}")
    terms = parse_expression(expression)
    for term in terms:
        beyond = [i for i in term.indices or () if i >= search]
        if beyond:
            raise ArithmeticInputError(
                f"sample {beyond[0]} in group {term.text!r} is beyond the pool: indices must be below --search "
                f"({search}), the number of samples of seed {seed} drawn; raise --search")
    named = [t for t in terms if t.literals is not None]
    if named and extractor is None:
        raise ArithmeticInputError(f"group {named[0].text!r} is chosen by class: pass --feature-extractor FILE, "
                                   "a classifier (e.g. extractors/fashion_mnist_classifier.pt2)")
    z_pool = fixed_noise(model, search, seed).cpu()
    criteria = {}
    if named:
        vocab = Vocabulary.from_meta(extractor.name, extractor.meta)
        width = extractor.meta.get("num_classes")
        if vocab.names is not None:  # unknown names fail before the (slow) pass over the pool
            for term in named:
                criteria[term] = criterion_for(term, vocab, width)
        logits = pool_logits(model, search, seed, label, extractor, batch_size, progress)
        if vocab.names is not None and logits.shape[1] != len(vocab.names):
            raise ArithmeticInputError(f"{extractor.name} gives {logits.shape[1]} logits but names "
                                       f"{len(vocab.names)} {vocab.kinds}")
        for term in named:  # a second check with the real width, for #k without names
            criteria[term] = criterion_for(term, vocab, logits.shape[1])
    indices, scores, descriptions = [], [], []
    pool = f"the {search} searched samples of seed {seed}"
    advice = f"raise --search (now {search}) or lower --per-group (now {per_group})"
    for term in terms:
        if term.indices is not None:
            indices.append(torch.tensor(term.indices, dtype=torch.long))  # cpu: labels / indices, moved by the model or used to index
            scores.append(None)
            descriptions.append("samples " + ", ".join(map(str, term.indices)))
        else:
            chosen, confidence = pick_members(logits, criteria[term], per_group, pool, advice)
            indices.append(chosen)
            scores.append(confidence)
            descriptions.append(criteria[term].description)
    group_z = [z_pool[i] for i in indices]
    means = group_means(group_z)
    result = combine(means, [t.sign for t in terms])
    neighbours = neighbourhood(result, noise_scale, torch.Generator().manual_seed(seed + NEIGHBOUR_SEED_OFFSET))
    images, note = decode_together(model, torch.cat([*group_z, means, neighbours]), label, seed)
    sizes = [len(z) for z in group_z]
    members = list(torch.split(images[: sum(sizes)], sizes))
    rest = images[sum(sizes):]
    out = ArithmeticResult(expression, seed, label, search, noise_scale, terms, descriptions, indices, scores,
                           group_z, means, result, neighbours, members, rest[: len(terms)], rest[len(terms):], note)
    if extractor is not None:
        logits = extractor(to_uint8(out.neighbour_images)).logits
        out.neighbour_logits = None if logits is None else logits.cpu()  # saved with numpy
    return out


def save_npz(result: ArithmeticResult, path) -> None:
    """Everything behind the figure; images as uint8 (N, H, W, C) like generate's .npz."""
    from lit_gan.atomic import atomic_path

    def images(x: Tensor) -> np.ndarray:
        return to_uint8(x).permute(0, 2, 3, 1).numpy()

    arrays = {
        "expression": np.array(result.expression), "seed": np.int64(result.seed),
        "label": np.int64(-1 if result.label is None else result.label), "search": np.int64(result.search),
        "noise_scale": np.float64(result.noise_scale), "decoding": np.array(result.decoding),
        "group_text": np.array([t.text for t in result.terms]), "group_description": np.array(result.descriptions),
        "signs": np.array([t.sign for t in result.terms], dtype=np.int64),
        "member_group": np.concatenate([np.full(len(i), g, dtype=np.int64) for g, i in enumerate(result.indices)]),
        "member_indices": torch.cat(result.indices).numpy().astype(np.int64),
        "member_scores": np.concatenate([np.full(len(i), np.nan) if s is None else s.double().numpy()
                                         for i, s in zip(result.indices, result.scores)]),
        "member_z": torch.cat(result.group_z).numpy(), "member_images": images(torch.cat(result.member_images)),
        "mean_z": result.means.numpy(), "mean_images": images(result.mean_images),
        "result_z": result.result.numpy(), "neighbour_z": result.neighbours.numpy(),
        "neighbour_images": images(result.neighbour_images),
    }
    if result.neighbour_logits is not None:
        arrays["neighbour_logits"] = result.neighbour_logits.numpy()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def verdict(result: ArithmeticResult, meta: dict) -> str | None:
    """What the classifier sees in the result (the centre) and its 8 neighbours, in one line."""
    logits = result.neighbour_logits
    if logits is None:
        return None
    vocab = Vocabulary.from_meta("", meta)
    name = (lambda i: vocab.names[i] if vocab.names and i < len(vocab.names) else f"#{i}")
    if not vocab.multilabel:
        probs = logits.softmax(1)
        top = probs.argmax(1)
        counts: dict[str, int] = {}
        for i in top.tolist():
            counts[name(i)] = counts.get(name(i), 0) + 1
        spread = ", ".join(f"{n} {c}" for n, c in sorted(counts.items(), key=lambda kv: -kv[1]))
        return (f"classifier: result (centre) = {name(int(top[4]))} (p {float(probs[4, top[4]]):.2f}); "
                f"3x3 with neighbours: {spread}")
    columns = sorted({c for t in result.terms if t.literals for c in _named_columns(t, vocab, logits.shape[1])})
    present = ", ".join(f"{name(c)} {int((logits[:, c] > 0).sum())}/9" for c in columns)
    centre = ", ".join(f"{name(c)} {'yes' if logits[4, c] > 0 else 'no'}" for c in columns)
    return f"classifier: result (centre) {centre}; present in the 3x3: {present}"


def _named_columns(term: Term, vocab: Vocabulary, width: int) -> tuple[int, ...]:
    return criterion_for(term, vocab, width).columns
