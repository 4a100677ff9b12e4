"""FID / KID / IS / class coverage against numpy + scipy references on random features."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from lit_gan.evaluation import registry
from lit_gan.metrics import scores
from lit_gan.metrics.extractors import Features


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def reference_kid(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018), one full subset."""
    d, m = a.shape[1], a.shape[0]
    k = lambda x, y: (x @ y.T / d + 1) ** 3  # noqa: E731
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    return float((kaa.sum() - np.trace(kaa) + kbb.sum() - np.trace(kbb)) / (m * (m - 1)) - 2 * kab.sum() / m**2)


def run(names, real: Features, fake: Features, num_classes=None, **kw):
    ctx = registry.FeatureContext(real.pool.shape[1], num_classes, len(real.pool), len(fake.pool), **kw)
    metrics = registry.build(names, ctx)
    registry.update(metrics, real, real=True)
    registry.update(metrics, fake, real=False)
    return registry.compute(metrics, len(fake.pool), seed=0)


@pytest.fixture
def features():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 16))
    b = rng.normal(loc=0.3, scale=1.2, size=(300, 16)) @ rng.normal(size=(16, 16)) * 0.5
    return a, b


def test_fid_matches_scipy_reference(features):
    a, b = features
    ours = run(["fid"], Features(torch.from_numpy(a), None), Features(torch.from_numpy(b), None))["fid_300"]
    assert ours == pytest.approx(reference_fid(a, b), rel=1e-6)


def test_fid_fallback_equals_the_reference_where_torchmetrics_succeeds(features):
    a, b = features
    metrics = registry.build(["fid"], registry.FeatureContext(16, None, 300, 300))
    registry.update(metrics, Features(torch.from_numpy(a), None), real=True)
    registry.update(metrics, Features(torch.from_numpy(b), None), real=False)
    assert float(scores.fid_from_symmetric_roots(metrics["fid"])) == pytest.approx(reference_fid(a, b), rel=1e-6)


def test_fid_of_few_images_in_many_dimensions_is_computed(monkeypatch):
    """4 flat-colour images' pooled features: singular covariances whose product makes
    torch.linalg.eigvals fail to converge; the symmetric fallback gives the value."""
    rng = np.random.default_rng(1)
    a = np.repeat(rng.uniform(-1, 1, (4, 3)), 16, axis=1)  # (4, 48), rank <= 3
    b = np.repeat(rng.uniform(-1, 1, (4, 3)), 16, axis=1)

    def diverges(*args, **kwargs):
        raise torch.linalg.LinAlgError("linalg.eigvals: The algorithm failed to converge")

    monkeypatch.setattr(torch.linalg, "eigvals", diverges)  # as it did on such features
    value = run(["fid"], Features(torch.from_numpy(a), None), Features(torch.from_numpy(b), None))["fid_4"]
    assert value == pytest.approx(reference_fid(a, b), rel=1e-5, abs=1e-8)


def test_fid_of_a_set_against_itself_is_zero(features):
    a, _ = features
    f = Features(torch.from_numpy(a), None)
    assert abs(run(["fid"], f, f)["fid_300"]) < 1e-6


def test_kid_matches_numpy_reference(features):
    a, b = features
    out = run(["kid"], Features(torch.from_numpy(a), None), Features(torch.from_numpy(b), None),
              kid_subsets=1, kid_subset_size=300)  # one subset = the whole set: no sampling
    assert out["kid_300"] == pytest.approx(reference_kid(a, b), rel=1e-6)
    assert out["kid_300_std"] == 0


def test_kid_subset_size_adapts_to_small_sets():
    assert scores.kid_subset_size(106, 106) == 106  # facades' test split
    assert scores.kid_subset_size(10_000, 10_000) == 1000
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(60, 4))
    out = run(["kid"], Features(torch.from_numpy(a), None), Features(torch.from_numpy(b), None))
    assert math.isfinite(out["kid_60"])


def reference_is(logits: torch.Tensor, splits: int, seed: int) -> tuple[float, float]:
    """Salimans et al. 2016: exp(E_x KL(p(y|x) || p(y))) per split, over the seeded permutation."""
    torch.manual_seed(seed)
    p = torch.softmax(logits[torch.randperm(len(logits))], dim=1).numpy()
    values = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        values.append(np.exp((part * (np.log(part) - np.log(marginal))).sum(1).mean()))
    return float(np.mean(values)), float(np.std(values, ddof=1))


def test_inception_score_matches_reference_and_closed_forms():
    k, dummy = 10, Features(torch.zeros(1000, 2), None)
    logits = torch.randn(1000, k, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 3
    out = run(["is"], dummy, Features(torch.zeros(1000, 2), logits))
    mean, std = reference_is(logits, scores.IS_SPLITS, seed=0)
    assert out["is_1k"] == pytest.approx(mean, rel=1e-6) and out["is_1k_std"] == pytest.approx(std, rel=1e-5)
    only_sevens = torch.full((1000, k), -30.0, dtype=torch.float64)
    only_sevens[:, 7] = 30.0
    assert run(["is"], dummy, Features(torch.zeros(1000, 2), only_sevens))["is_1k"] == pytest.approx(1.0, abs=1e-6)
    confident = torch.full((1000, k), -30.0, dtype=torch.float64)
    confident[torch.arange(1000), torch.arange(1000) % k] = 30.0  # each sample sure, classes balanced overall
    assert 9.0 < run(["is"], dummy, Features(torch.zeros(1000, 2), confident))["is_1k"] <= k + 1e-9


def one_hot_logits(classes: torch.Tensor, k: int = 10) -> torch.Tensor:
    return torch.nn.functional.one_hot(classes, k).double() * 10


def test_class_coverage_of_a_generator_that_makes_only_sevens():
    real = Features(torch.zeros(1000, 2), one_hot_logits(torch.arange(1000) % 10))
    sevens = Features(torch.zeros(500, 2), one_hot_logits(torch.full((500,), 7)))
    out = run(["classes"], real, sevens, num_classes=10)
    assert out["classes_covered"] == 1
    assert out["classes_kl"] == pytest.approx(math.log(10))
    everything = Features(torch.zeros(500, 2), one_hot_logits(torch.arange(500) % 10))
    out = run(["classes"], real, everything, num_classes=10)
    assert out["classes_covered"] == 10 and out["classes_kl"] == pytest.approx(0, abs=1e-12)


def test_class_coverage_threshold_is_relative_to_the_data():
    real = Features(torch.zeros(1000, 2), one_hot_logits(torch.arange(1000) % 10))
    # class 0 gets 0.5% of the samples (5% of its 10% share): below the 10% threshold
    fake_classes = torch.cat([torch.zeros(5, dtype=torch.long), 1 + torch.arange(995) % 9])
    out = run(["classes"], real, Features(torch.zeros(1000, 2), one_hot_logits(fake_classes)), num_classes=10)
    assert out["classes_covered"] == 9


def test_metrics_needing_logits_say_so():
    f = Features(torch.zeros(10, 2, dtype=torch.float64), None)
    with pytest.raises(ValueError, match="classifier"):
        registry.build(["classes"], registry.FeatureContext(2, None, 10, 10))
    metrics = registry.build(["is"], registry.FeatureContext(2, None, 10, 10))
    with pytest.raises(ValueError, match="logits"):
        registry.update(metrics, f, real=False)


@pytest.mark.parametrize("n, tag", [(10_000, "10k"), (50_000, "50k"), (106, "106"), (2500, "2500"), (1000, "1k")])
def test_count_tag(n, tag):
    assert scores.count_tag(n) == tag
