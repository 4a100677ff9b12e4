"""Evaluation as a library call: ``evaluate(source, datamodule, protocol) -> (values, card)``.

Every rank of a K-process evaluation calls it together (``python -m lit_gan evaluate
--devices K`` launches them) and gets the same result. Feature metrics share one
extraction pass (lit_gan.evaluation.features); sample metrics run their own
(lit_gan.evaluation.registry says which is which).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from typing import Any

import torch

from lit_gan.distributed import world
from lit_gan.evaluation import registry
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
    metrics compute on ``device`` (default: the extractor's, else the CPU)."""
    registry.check_names(protocol.metrics)
    feature_names = [m for m in protocol.metrics if m in registry.FEATURE_METRICS]
    values: dict[str, Any] = {}
    card: dict[str, Any]
    if feature_names:
        if extractor is None:
            raise ValueError(f"{', '.join(feature_names)} need a feature extractor")
        real, real_labels = source.real(datamodule, protocol.split, protocol.num_real, domain)
        if tuple(real.shape[1:]) != source.shape:
            raise ValueError(f"samples are {source.shape} (C, H, W) but the {protocol.split} images are "
                             f"{tuple(real.shape[1:])}: check --data.init_args.image_size")
        label = f"{type(datamodule).__name__}-{protocol.split}-{len(real)}-{extractor.name}"
        evaluator = Evaluator(protocol, extractor, cache, progress)
        values.update(feature_values(evaluator, source, real, real_labels, label))
        card = evaluator.card(real, label)
    else:
        card = {"split": protocol.split, "n_fake": source.num, "metrics": protocol.metrics}
    card["source"] = source.card()
    if isinstance(source, GeneratorSource):
        card["sampling"] = sampling_card(source.model)
    device = torch.device(device if device is not None else extractor.device if extractor is not None else "cpu")
    ctx = SampleContext(source, datamodule, protocol, progress, min_count, device=device)
    for name in protocol.metrics:
        if name in registry.SAMPLE_METRICS:
            found, metric_card = run_sample_metric(name, ctx)
            values.update(found)
            card[name] = metric_card
    if ctx.warnings:
        card["warnings"] = ctx.warnings
    return values, card


def feature_values(evaluator: Evaluator, source: Source, real, real_labels, label: str) -> dict[str, float]:
    """The feature metrics of ``evaluator``'s protocol for ``source`` (all ranks call this)."""
    batch_size = evaluator.protocol.batch_size
    return evaluator.evaluate(lambda rows: source.uint8_batches(rows, batch_size), real, label,
                              source.labels if source.label_classes else None, real_labels, source.label_classes)
