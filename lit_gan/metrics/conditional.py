"""Metrics for class-conditional generators: samples judged against the label they were made for.

- ConditionalAccuracy: the share of generated samples that a pretrained classifier assigns
  to the class they were generated for (Odena et al. 2017, AC-GAN, sec. 4.1).
- IntraFID: the mean over classes of FID(real images of class c, generated images of
  class c) (Miyato & Koyama 2018, cGANs with projection discriminator, sec. 5).

Like lit_gan.metrics.scores, both take features / logits extracted elsewhere
(lit_gan.metrics.extractors.Features). Every state is a sum with dist_reduce_fx="sum", so
each rank updates with its own shard and ``compute()`` (called on EVERY rank: it syncs)
gives the same number on 1 or K processes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from lit_gan.metrics.device import feature_dtype
from lit_gan.metrics.frechet import frechet_distance, mean_and_covariance

__all__ = ["ConditionalAccuracy", "IntraFID", "frechet_distance"]  # frechet_distance: its old home


def _check_labels(labels: Tensor, n: int, num_classes: int, what: str) -> Tensor:
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"{what}: labels must have shape ({n},), one per row, got {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"{what}: labels must be integer class indices, got dtype {labels.dtype}")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(f"{what}: labels must lie in [0, {num_classes}), got {sorted(set(bad.tolist()))[:10]}; "
                         f"is num_classes={num_classes} the number of classes the generator was trained with?")
    return labels.long()


class ConditionalAccuracy(Metric):
    """Odena et al. 2017 (AC-GAN), sec. 4.1: a pretrained classifier's argmax equals the
    conditioning label. ``update(logits (N, K), labels (N,))``; ``compute()`` -> accuracy
    in [0, 1] (float64 scalar); ``per_class()`` -> (K,) accuracy per conditioning label,
    NaN for a label never generated. Both sync, so call them on every rank."""

    full_state_update = False
    is_differentiable = False
    higher_is_better = True

    def __init__(self, num_classes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        # per conditioning label; compute() sums them
        self.add_state("correct", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric
        self.add_state("total", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric

    def update(self, logits: Tensor, labels: Tensor) -> None:
        if logits.ndim != 2 or logits.shape[1] != self.num_classes:
            raise ValueError(f"ConditionalAccuracy: logits must have shape (N, {self.num_classes}), got "
                             f"{tuple(logits.shape)}; the classifier must score the generator's {self.num_classes} "
                             "classes")
        labels = _check_labels(labels, logits.shape[0], self.num_classes, "ConditionalAccuracy").to(self.total.device)
        hit = logits.argmax(dim=1).to(labels.device) == labels
        self.total += torch.bincount(labels, minlength=self.num_classes)
        self.correct += torch.bincount(labels[hit], minlength=self.num_classes)

    def compute(self) -> Tensor:
        total = self.total.sum()
        if total == 0:
            raise ValueError("ConditionalAccuracy: no samples; call update(logits, labels) before compute()")
        dtype = feature_dtype(total.device)  # float64; float32 on MPS
        return self.correct.sum().to(dtype) / total.to(dtype)

    def per_class(self) -> Tensor:
        """(K,) accuracy per conditioning label over all ranks (NaN where none was generated)."""
        with self.sync_context(dist_sync_fn=self.dist_sync_fn, process_group=self.process_group):
            correct, total = self.correct.clone(), self.total.clone()
        dtype = feature_dtype(total.device)
        return torch.where(total > 0, correct.to(dtype) / total.clamp(min=1).to(dtype),
                           torch.full_like(total, float("nan"), dtype=dtype))


class IntraFID(Metric):
    """Miyato & Koyama 2018, sec. 5: intra-FID = mean over classes c of
    FID(real features of class c, generated features of class c).

    ``update(features (N, D), labels (N,), real)``; ``compute()`` -> (mean intra-FID,
    per-class FID (K,)), float64. States per class and side: feature sums (K, D), sums of
    outer products (K, D, D) and counts (K,), float64 and summed over ranks. Memory is
    2 K D^2 8 bytes: 10 classes x 2048 Inception features = 0.67 GB.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = False

    def __init__(self, num_classes: int, num_features: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_classes < 1 or num_features < 1:
            raise ValueError(f"num_classes and num_features must be >= 1, got {num_classes}, {num_features}")
        self.num_classes, self.num_features = num_classes, num_features
        k, d = num_classes, num_features
        for side in ("real", "fake"):
            self.add_state(f"{side}_sum", torch.zeros(k, d, dtype=torch.float64), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric
            self.add_state(f"{side}_outer_sum", torch.zeros(k, d, d, dtype=torch.float64), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric
            self.add_state(f"{side}_count", torch.zeros(k, dtype=torch.long), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric

    def update(self, features: Tensor, labels: Tensor, real: bool) -> None:
        if features.ndim != 2 or features.shape[1] != self.num_features:
            raise ValueError(f"IntraFID: features must have shape (N, {self.num_features}), got "
                             f"{tuple(features.shape)}")
        side = "real" if real else "fake"
        total, outer, count = (getattr(self, f"{side}{s}") for s in ("_sum", "_outer_sum", "_count"))
        labels = _check_labels(labels, features.shape[0], self.num_classes, "IntraFID").to(count.device)
        x = features.to(device=total.device, dtype=total.dtype)  # float64 (float32 when placed on MPS)
        total.index_add_(0, labels, x)
        count += torch.bincount(labels, minlength=self.num_classes)
        for c in labels.unique().tolist():
            xc = x[labels == c]
            outer[c] += xc.T @ xc

    def compute(self) -> tuple[Tensor, Tensor]:
        few = [(c, int(r), int(f)) for c, (r, f) in enumerate(zip(self.real_count, self.fake_count))
               if r < 2 or f < 2]
        if few:
            listed = ", ".join(f"class {c}: {r} real / {f} generated" for c, r, f in few)
            raise ValueError(f"IntraFID needs at least 2 real and 2 generated samples of every class to estimate its "
                             f"covariance; too few for {listed}. Generate more samples per class (e.g. --per-class) "
                             "or use a split that holds every class")
        per_class = torch.stack([
            frechet_distance(*self._stats("real", c), *self._stats("fake", c)) for c in range(self.num_classes)
        ])
        return per_class.mean(), per_class

    def _stats(self, side: str, c: int) -> tuple[Tensor, Tensor]:
        """Mean and unbiased covariance (divides by n - 1, as torchmetrics and numpy.cov) of class c."""
        return mean_and_covariance(*(getattr(self, f"{side}{s}")[c] for s in ("_sum", "_outer_sum", "_count")))
