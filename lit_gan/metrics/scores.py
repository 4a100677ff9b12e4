"""The pieces of FID, KID, IS (torchmetrics) and class coverage that lit_gan adds, for
metrics fed with features extracted elsewhere (the registry, lit_gan.evaluation.registry,
builds and reads them).

torchmetrics' metrics run their extractor inside ``update``; here extraction happens once
in lit_gan.evaluation.features (so real features can be cached), and the metrics get a
pass-through module. Each rank updates with its own shard; ``compute()`` (on every rank)
syncs the states, so the numbers do not depend on the number of processes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.image.fid import FrechetInceptionDistance

from lit_gan.metrics.device import feature_dtype
from lit_gan.metrics.frechet import frechet_distance, mean_and_covariance

KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000  # Binkowski et al. 2018 (torch-fidelity's defaults)
IS_SPLITS = 10  # Salimans et al. 2016
COVERAGE_THRESHOLD = 0.1  # a class counts as covered at >= 10% of its share among the real images


class PassThrough(nn.Module):
    """The 'extractor' torchmetrics sees: features are already extracted."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features  # read by FrechetInceptionDistance instead of a dummy forward

    def forward(self, features: Tensor) -> Tensor:
        return features


class FeatureFID(FrechetInceptionDistance):
    """torchmetrics' FID without its ``features.double()`` in ``update``: features are summed
    in the states' dtype (float64; float32 on MPS, which has no float64: lit_gan.metrics.device
    ``place`` casts the states), on the states' device."""

    def update(self, features: Tensor, real: bool) -> None:
        self.orig_dtype = features.dtype  # compute() returns this dtype
        features = features.to(self.real_features_sum)  # float64 features: a no-op, as .double() was
        if features.dim() == 1:
            features = features.unsqueeze(0)
        if real:  # the rest as torchmetrics 1.9
            self.real_features_sum += features.sum(dim=0)
            self.real_features_cov_sum += features.t().mm(features)
            self.real_features_num_samples += features.shape[0]
        else:
            self.fake_features_sum += features.sum(dim=0)
            self.fake_features_cov_sum += features.t().mm(features)
            self.fake_features_num_samples += features.shape[0]


class ClassCoverage(Metric):
    """Predicted-class histograms of real and generated images.

    ``compute()`` -> (classes covered, KL(p_fake || p_real)). A generator that makes only 7s
    covers 1 class and has KL = log(1 / p_real(7)) ~ log 10.
    """

    full_state_update = False

    def __init__(self, num_classes: int, threshold: float = COVERAGE_THRESHOLD, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold
        self.add_state("real_counts", torch.zeros(num_classes, dtype=torch.float64), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric
        self.add_state("fake_counts", torch.zeros(num_classes, dtype=torch.float64), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric

    def update(self, logits: Tensor, real: bool) -> None:
        counts = torch.bincount(logits.argmax(dim=1), minlength=self.real_counts.numel()).to(self.real_counts)
        if real:
            self.real_counts += counts
        else:
            self.fake_counts += counts

    def compute(self) -> tuple[Tensor, Tensor]:
        p_real = self.real_counts / self.real_counts.sum()
        p_fake = self.fake_counts / self.fake_counts.sum()
        covered = (p_fake >= self.threshold * p_real) & (p_real > 0)
        kl = torch.special.xlogy(p_fake, p_fake).sum() - torch.special.xlogy(p_fake, p_real).sum()
        return covered.sum(), kl


def count_tag(n: int) -> str:
    """10000 -> '10k', 50000 -> '50k', 106 -> '106': the sample count in a log key."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def kid_subset_size(n_real: int, n_fake: int, wanted: int = KID_SUBSET_SIZE) -> int:
    """KID's subset size, shrunk to the smaller set when that is below ``wanted`` (facades: 106)."""
    return min(wanted, n_real, n_fake)


def fid_from_symmetric_roots(metric: FrechetInceptionDistance) -> Tensor:
    """FID from the metric's (all-rank) states when torchmetrics' eigvals(S_r S_f) fails to
    converge (singular covariances: fewer images than feature dimensions), by the symmetric
    form of lit_gan.metrics.frechet, which always converges. float64 (float32 on MPS)."""
    with metric.sync_context():  # the same states compute() used
        dtype = feature_dtype(metric.real_features_sum.device)
        stats = [mean_and_covariance(*(getattr(metric, f"{side}_features{s}").to(dtype)
                                       for s in ("_sum", "_cov_sum", "_num_samples")))
                 for side in ("real", "fake")]
    return frechet_distance(*stats[0], *stats[1])
