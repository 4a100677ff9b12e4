"""One evaluation, the same on 1 or K processes: real reference, generated shard, metrics.

Every rank calls ``Evaluator.evaluate`` together (from a callback under DDP, or from
``python -m lit_gan evaluate --devices K``):

1. real images of the chosen split (first ``num_real``, read directly from the dataset,
   never through a DistributedSampler, which pads with duplicates) -> features, from the
   on-disk cache or extracted shard-wise, gathered, and cached by rank 0;
2. generated images: sample i is always z_i of ``seed`` (and label y_i, for a conditional
   model; lit_gan.evaluation.sampling); rank r makes the contiguous shard r of
   ``num_samples`` (N // K each, the remainder spread);
3. the registry's feature metrics (lit_gan.evaluation.registry) get each rank's shards and
   ``compute()`` syncs them on every rank.

Features stay on the extractor's device and the metrics compute there (float64; float32 on
MPS: lit_gan.metrics.device); only the cache keeps them on the CPU.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from lit_gan.data.contract import SPLITS
from lit_gan.distributed import collective_device, gather_rows, rank_zero_decides, shard, world
from lit_gan.evaluation import registry
from lit_gan.metrics import scores
from lit_gan.metrics.device import card as device_card
from lit_gan.metrics.device import feature_dtype, place
from lit_gan.metrics.extractors import FeatureExtractor, Features
from lit_gan.metrics.reference_cache import CACHE_FORMAT, ReferenceCache, cache_key, images_digest, versions


@dataclass
class Protocol:
    """What an evaluation compares; printed beside every number it produces."""

    metrics: list[str] = field(default_factory=lambda: ["fid", "kid"])
    num_samples: int = 10_000
    num_real: int | None = None  # None: the whole split
    split: str = "test"
    seed: int = 0
    batch_size: int = 250
    kid_subsets: int = scores.KID_SUBSETS
    kid_subset_size: int = scores.KID_SUBSET_SIZE

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        registry.check_names(self.metrics)
        if self.num_samples < 2 or (self.num_real is not None and self.num_real < 2) or self.batch_size < 1:
            raise ValueError("num_samples and num_real must be >= 2 and batch_size >= 1")


def sampling_card(model) -> dict[str, Any]:
    """How a model's samples were drawn, for the card: G's BatchNorm mode (running
    statistics, or the statistics of each group of ``sample_batch_size`` consecutive
    samples, as the DCGAN / WGAN reference code) and the noise."""
    mode = getattr(model, "sample_mode", "eval")
    card: dict[str, Any] = {"sample_mode": mode, "noise": getattr(model, "noise_name", None)}
    if mode == "batch_stats":
        card["sample_batch_size"] = model.sample_batch_size
    card["batch_norm"] = ("statistics of each group of sample_batch_size consecutive samples (running "
                          "statistics untouched)" if mode == "batch_stats" else "running statistics (eval mode)")
    return card


def extract(extractor: FeatureExtractor, images: Iterable[Tensor], total: int, desc: str, progress: bool) -> Features:
    """Features of uint8 batches totalling ``total`` images (for the progress bar)."""
    parts = []
    with tqdm(total=total, desc=desc, unit="img", file=sys.stderr, disable=not progress) as bar:
        for batch in images:
            parts.append(extractor(batch))
            bar.update(len(batch))
    return Features.cat(parts)


class Evaluator:
    """Computes a Protocol's feature metrics for any sample source, caching real features."""

    def __init__(self, protocol: Protocol, extractor: FeatureExtractor, cache: ReferenceCache | None = None,
                 progress: bool = True) -> None:
        self.protocol, self.extractor = protocol, extractor
        self.cache = cache if cache is not None else ReferenceCache()
        self.progress = progress
        self.last_cache_hit: bool | None = None
        self._reference: tuple[str, Features] | None = None  # kept between evaluations of one run

    # ---- real side ---------------------------------------------------------------
    def reference_parts(self, real: Tensor, label: str) -> dict[str, Any]:
        vs = versions()
        return {"images_sha256": images_digest(real), "n_real": len(real), "what": label,
                "extractor_sha256": self.extractor.sha256, "resize": self.extractor.resize_note(tuple(real.shape[1:])),
                "format": CACHE_FORMAT, "torch": vs["torch"].split("+")[0], "torchmetrics": vs["torchmetrics"],
                "torch_fidelity": vs.get("torch_fidelity")} | self._dtype_part()

    def _dtype_part(self) -> dict[str, str]:
        """float32 features (MPS) get keys of their own; float64 entries keep the keys they had."""
        dtype = feature_dtype(self.extractor.device)
        return {} if dtype == torch.float64 else {"dtype": str(dtype)}

    def reference(self, real: Tensor, label: str) -> Features:
        """Features of all real images, on every rank: cached, or extracted shard-wise."""
        parts = self.reference_parts(real, label)
        key = cache_key(parts)
        if self._reference is not None and self._reference[0] == key:
            self.last_cache_hit = True
            return self._reference[1]
        # Caches may be node-local: rank 0 reads its own and sends a hit to every rank; on a
        # miss all ranks extract together (a rank deciding alone skips the others' collectives).
        features = rank_zero_decides(lambda: self.cache.load(key, label))  # on the CPU
        self.last_cache_hit = features is not None
        if features is not None:
            features = features.to(self.extractor.device)  # where extracted features would be
        if features is None:
            rank, size = world()
            rows = shard(len(real), rank, size)
            local = extract(self.extractor, real[rows.start : rows.stop].split(self.protocol.batch_size), len(rows),
                            "real features", self.progress and rank == 0)
            logits = gather_rows(local.logits) if local.logits is not None else None
            features = Features(gather_rows(local.pool), logits)
            rank_zero_decides(lambda: self.cache.save(key, label, features, parts))  # its error stops every rank
        self._reference = (key, features)
        return features

    # ---- generated side ----------------------------------------------------------
    def evaluate(self, fake_batches: Callable[[range], Iterable[Tensor]], real: Tensor, label: str,
                 fake_labels: Callable[[range], Tensor] | None = None, real_labels: Tensor | None = None,
                 label_classes: int | None = None) -> dict[str, float]:
        """Every rank calls this. ``fake_batches(rows)`` yields uint8 batches of generated
        samples ``rows`` (this rank's shard of ``num_samples``); for a class-conditional
        source ``fake_labels(rows)`` gives the labels they were made for (of
        ``label_classes`` classes), and ``real_labels`` the classes of ``real``."""
        p = self.protocol
        names = [m for m in p.metrics if m in registry.FEATURE_METRICS]
        if not names:
            return {}
        num_classes = self.extractor.num_classes if self.extractor.class_names else None
        ctx = registry.FeatureContext(1, num_classes, len(real), p.num_samples, p.kid_subsets, p.kid_subset_size,
                                      label_classes if fake_labels else None,
                                      bool(self.extractor.meta.get("multilabel")))
        registry.build(names, ctx)  # a metric that can't run here says so before any extraction
        if "intra_fid" in names and real_labels is None:
            raise ValueError("intra_fid needs the classes of the real images: the datamodule's items must be "
                             "(image, label); this split has no labels")
        reference = self.reference(real, label)
        metrics = registry.build(names, dataclasses.replace(ctx, num_features=reference.pool.shape[1]))
        rank, size = world()
        rows = shard(p.num_samples, rank, size)
        fake = extract(self.extractor, fake_batches(rows), len(rows), "generated features", self.progress and rank == 0)
        if fake.pool.shape[0] != len(rows):
            raise ValueError(f"expected {len(rows)} generated samples on rank {rank}, got {fake.pool.shape[0]}")
        device = metric_device(fake.pool.device)
        for metric in metrics.values():
            place(metric, device)
        real_rows = shard(len(real), rank, size)
        registry.update(metrics, reference.slice(real_rows), real=True,
                        labels=real_labels[real_rows.start : real_rows.stop] if real_labels is not None else None)
        registry.update(metrics, fake, real=False, labels=fake_labels(rows) if fake_labels else None)
        return registry.compute(metrics, p.num_samples, p.seed)

    def card(self, real: Tensor, label: str) -> dict[str, Any]:
        """The protocol card: everything needed to compare a number with another."""
        p = self.protocol
        return {"what": label, "split": p.split, "n_real": len(real), "n_fake": p.num_samples, "seed": p.seed,
                "metrics": p.metrics, "extractor": self.extractor.card(),
                "resize": self.extractor.resize_note(tuple(real.shape[1:])),
                "conversion": "[-1, 1] -> uint8 by clamp and round, for real and generated images alike",
                "kid": {"subsets": p.kid_subsets, "subset_size": scores.kid_subset_size(len(real), p.num_samples, p.kid_subset_size)},
                "is_splits": scores.IS_SPLITS, "classes_threshold": scores.COVERAGE_THRESHOLD,
                "processes": world()[1], "versions": versions(), "protocol": asdict(p),
                "features": device_card(self.extractor.device)}


def metric_device(features: torch.device) -> torch.device:
    """Where the metrics compute: with the features, except that NCCL syncs CUDA tensors only."""
    collective = collective_device()
    return collective if collective.type == "cuda" else features
