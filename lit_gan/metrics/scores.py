"""FID, KID, IS (torchmetrics) and class coverage, fed with features extracted elsewhere.

torchmetrics' metrics run their extractor inside ``update``; here extraction happens once
in lit_gan.metrics.evaluation (so real features can be cached), and the metrics get a
pass-through module. Each rank updates with its own shard; ``compute()`` (on every rank)
syncs the states, so the numbers do not depend on the number of processes.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

from lit_gan.metrics.extractors import Features

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


class ClassCoverage(Metric):
    """Predicted-class histograms of real and generated images.

    ``compute()`` -> (classes covered, KL(p_fake || p_real)). A generator that makes only 7s
    covers 1 class and has KL = log(1 / p_real(7)) ~ log 10.
    """

    full_state_update = False

    def __init__(self, num_classes: int, threshold: float = COVERAGE_THRESHOLD, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold
        self.add_state("real_counts", torch.zeros(num_classes, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("fake_counts", torch.zeros(num_classes, dtype=torch.float64), dist_reduce_fx="sum")

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


def build(names: list[str], num_features: int, num_classes: int | None, n_real: int, n_fake: int,
          kid_subsets: int = KID_SUBSETS, kid_size: int = KID_SUBSET_SIZE) -> dict[str, Metric]:
    metrics: dict[str, Metric] = {}
    # KID / IS warn that they keep all features: that is the point here (10k x 2048 floats)
    warnings.filterwarnings("ignore", message=r"Metric `(Kernel Inception Distance|InceptionScore)` will save all")
    if "fid" in names:
        metrics["fid"] = FrechetInceptionDistance(feature=PassThrough(num_features))
    if "kid" in names:
        metrics["kid"] = KernelInceptionDistance(feature=PassThrough(num_features), subsets=kid_subsets,
                                                 subset_size=kid_subset_size(n_real, n_fake, kid_size))
    if "is" in names:
        metrics["is"] = InceptionScore(feature=PassThrough(num_features), splits=IS_SPLITS)
    if "classes" in names:
        if not num_classes:
            raise ValueError("the 'classes' metric needs a classifier feature extractor (one that returns logits "
                             "and names its classes), e.g. the file written by `python -m lit_gan train-classifier`")
        metrics["classes"] = ClassCoverage(num_classes)
    return metrics


def update(metrics: dict[str, Metric], features: Features, real: bool) -> None:
    needs_logits = [k for k in ("is", "classes") if k in metrics and (k == "classes" or not real)]
    if needs_logits and features.logits is None:
        raise ValueError(f"{', '.join(needs_logits)} need class logits; this feature extractor returns features only")
    for name, metric in metrics.items():
        if name in ("fid", "kid"):
            metric.update(features.pool.to(metric.device), real=real)
        elif name == "is" and not real:
            metric.update(features.logits.to(metric.device))
        elif name == "classes":
            metric.update(features.logits.to(metric.device), real=real)


def fid_from_symmetric_roots(metric: FrechetInceptionDistance) -> Tensor:
    """FID from the metric's (all-rank) states when torchmetrics' eigvals(S_r S_f) fails to
    converge: with fewer images than feature dimensions (facades' 106 test images vs 2,048
    Inception features) both covariances are singular and their product has many repeated
    zero eigenvalues. tr sqrt(S_r S_f) = tr sqrt(R S_f R) with R = S_r^1/2, and R S_f R is
    symmetric PSD, so eigh (which always converges) gives it."""
    with metric.sync_context():  # the same states compute() used
        stats = []
        for side in ("real", "fake"):
            n = getattr(metric, f"{side}_features_num_samples").double()
            mean = getattr(metric, f"{side}_features_sum").double() / n
            cov = (getattr(metric, f"{side}_features_cov_sum").double() - n * torch.outer(mean, mean)) / (n - 1)
            stats.append((mean, cov))
    (mu_r, cov_r), (mu_f, cov_f) = stats
    values, vectors = torch.linalg.eigh(cov_r)
    root_r = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(root_r @ cov_f @ root_r).clamp(min=0).sqrt().sum()
    return (mu_r - mu_f).square().sum() + cov_r.trace() + cov_f.trace() - 2 * cross


def compute(metrics: dict[str, Metric], n_fake: int, seed: int) -> dict[str, float]:
    """Every rank must call this (the metrics sync inside). KID / IS subsets use ``seed``."""
    tag, out = count_tag(n_fake), {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name, metric in metrics.items():
            try:
                value = metric.compute()
            except torch.linalg.LinAlgError:
                if name != "fid":
                    raise
                value = fid_from_symmetric_roots(metric)
            if name == "fid":
                out[f"fid_{tag}"] = float(value)
            elif name == "kid":
                out[f"kid_{tag}"], out[f"kid_{tag}_std"] = float(value[0]), float(value[1])
            elif name == "is":
                out[f"is_{tag}"], out[f"is_{tag}_std"] = float(value[0]), float(value[1])
            elif name == "classes":
                out["classes_covered"], out["classes_kl"] = int(value[0]), float(value[1])
    return out
