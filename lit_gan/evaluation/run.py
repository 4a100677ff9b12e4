"""Evaluation as a library call: ``evaluate(source, datamodule, protocol) -> (values, card)``.

Every rank of a K-process evaluation calls it together (``python -m lit_gan evaluate
--devices K`` launches them) and gets the same result. One pass makes the samples (or
translations): feature metrics read their features (lit_gan.evaluation.features), shared-pass
metrics (paired) the translations themselves; other sample metrics run their own pass
(lit_gan.evaluation.registry says which is which). The card says where the seconds went.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from lit_gan.conversion import to_uint8
from lit_gan.distributed import shard, world
from lit_gan.evaluation import registry, timing
from lit_gan.evaluation.features import Evaluator, Protocol, sampling_card
from lit_gan.evaluation.modes import MIN_COUNT
from lit_gan.evaluation.sources import GeneratorSource, Source
from lit_gan.metrics.extractors import FeatureExtractor
from lit_gan.metrics.reference_cache import ReferenceCache


@dataclass
class SampleContext:
    """What a sample metric (the registry's ``run``) reads."""

    source: Source
    datamodule: Any
    protocol: Protocol
    progress: bool = False
    min_count: int = MIN_COUNT
    warnings: list[str] = field(default_factory=list)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))  # where a metric computes (Parzen)

    def warn(self, message: str) -> None:
        if world()[0] == 0:
            print(f"warning: {message}", file=sys.stderr)
        self.warnings.append(message)


def run_sample_metric(name: str, ctx: SampleContext) -> tuple[dict[str, Any], dict[str, Any]]:
    module, _, function = registry.REGISTRY[name].run.partition(":")
    return getattr(importlib.import_module(module), function)(ctx)


def evaluate(source: Source, datamodule, protocol: Protocol, extractor: FeatureExtractor | None = None,
             cache: ReferenceCache | None = None, progress: bool = False, domain: str | None = None,
             min_count: int = MIN_COUNT, device: str | torch.device | None = None
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Score ``source`` against ``datamodule``'s ``protocol.split``; (values, protocol card). Sample
    metrics compute on ``device`` (default: the extractor's, else the CPU); the protocol card holds
    the seconds each part took under ``timing``."""
    registry.check_names(protocol.metrics)
    with timing.recording() as watch:
        values, card = _evaluate(source, datamodule, protocol, extractor, cache, progress, domain, min_count, device)
    card["timing"] = {**watch.card(), "note": TIMING_NOTE, **({"rank": 0} if world()[1] > 1 else {})}
    return values, card


TIMING_NOTE = ("seconds of this process: load (checkpoint, extractor), real_images (reading the split), "
               "reference_features (extracting them; 0 when cached), "
               "forward (making the samples / translations, data loading included), features (the extractor on "
               "them), metrics (each metric's update and compute; a CycleGAN's paired includes its cycle "
               "translations); total includes the rest (cache look-up, set-up)")


def _evaluate(source: Source, datamodule, protocol: Protocol, extractor: FeatureExtractor | None,
              cache: ReferenceCache | None, progress: bool, domain: str | None, min_count: int,
              device: str | torch.device | None) -> tuple[dict[str, Any], dict[str, Any]]:
    feature_names = [m for m in protocol.metrics if m in registry.FEATURE_METRICS]
    device = torch.device(device if device is not None else extractor.device if extractor is not None else "cpu")
    ctx = SampleContext(source, datamodule, protocol, progress, min_count, device=device)
    shared = {name: run_sample_metric(name, ctx) for name in protocol.metrics if registry.reads_shared_pass(name)}
    values: dict[str, Any] = {}
    card: dict[str, Any]
    if feature_names:
        if extractor is None:
            raise ValueError(f"{', '.join(feature_names)} need a feature extractor")
        with timing.section("real_images"):
            real, real_labels = source.real(datamodule, protocol.split, protocol.num_real, domain)
        if tuple(real.shape[1:]) != source.shape:
            raise ValueError(f"samples are {source.shape} (C, H, W) but the {protocol.split} images are "
                             f"{tuple(real.shape[1:])}: check --data.init_args.image_size")
        label = f"{type(datamodule).__name__}-{protocol.split}-{len(real)}-{extractor.name}"
        timed = TimedExtractor(extractor)
        evaluator = Evaluator(protocol, timed, cache, progress)
        values.update(feature_values(evaluator, source, real, real_labels, label, shared, timed))
        card = evaluator.card(real, label)
    else:
        card = {"split": protocol.split, "n_fake": source.num, "metrics": protocol.metrics}
        if shared:  # no extractor: the pass only feeds them
            rank, size = world()
            for _ in shared_pass(source, shard(source.num, rank, size), protocol.batch_size, shared):
                pass
    card["source"] = source.card()
    if isinstance(source, GeneratorSource):
        card["sampling"] = sampling_card(source.model)
    for name in protocol.metrics:
        if name in shared:
            with timing.section(f"metric:{name}"):
                found, metric_card = shared[name].result()
        elif name in registry.SAMPLE_METRICS:
            with timing.section(f"metric:{name}"):
                found, metric_card = run_sample_metric(name, ctx)
        else:
            continue
        values.update(found)
        card[name] = metric_card
    if ctx.warnings:
        card["warnings"] = ctx.warnings
    return values, card


class TimedExtractor:
    """``extractor`` with its calls charged to ``key``: the real images' features until the
    generated pass starts (``shared_pass`` switches it), then the samples'."""

    def __init__(self, extractor: FeatureExtractor) -> None:
        self.inner, self.key = extractor, "reference_features"

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def __call__(self, images):
        with timing.section(self.key):
            return self.inner(images)


def shared_pass(source: Source, rows: range, batch_size: int, shared: dict[str, Any],
                extractor: TimedExtractor | None = None) -> Iterator[Tensor]:
    """uint8 batches of ``rows`` for the extractor; with ``shared`` metrics (paired), each
    translated batch feeds them on its way: the split is translated once for every metric."""
    if extractor is not None:
        extractor.key = "features"
    if not shared:
        yield from timing.timed_iter(source.uint8_batches(rows, batch_size), "forward")
        return
    for batch in timing.timed_iter(source.translated(rows, batch_size, partners=True), "forward"):
        for name, metric in shared.items():
            with timing.section(f"metric:{name}"):
                metric.update(batch)
        with timing.section("forward"):
            images = to_uint8(batch.translations).cpu()
        yield images


def feature_values(evaluator: Evaluator, source: Source, real, real_labels, label: str,
                   shared: dict[str, Any] | None = None, extractor: TimedExtractor | None = None) -> dict[str, float]:
    """The feature metrics of ``evaluator``'s protocol for ``source`` (all ranks call this);
    ``shared`` metrics are fed the same translations on the way."""
    batch_size = evaluator.protocol.batch_size
    return evaluator.evaluate(lambda rows: shared_pass(source, rows, batch_size, shared or {}, extractor), real, label,
                              source.labels if source.label_classes else None, real_labels, source.label_classes)
