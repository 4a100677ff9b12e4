"""The Frechet distance FID and intra-FID share, against numpy + scipy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from lit_gan.metrics.frechet import frechet_distance, mean_and_covariance


def test_mean_and_covariance_from_sums_equal_numpy():
    x = np.random.default_rng(0).normal(size=(50, 6))
    t = torch.from_numpy(x)
    mean, cov = mean_and_covariance(t.sum(0), t.T @ t, torch.tensor(50))
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(x, rowvar=False), rtol=1e-10)


def test_frechet_distance_equals_scipy_sqrtm_form():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(200, 8))
    b = rng.normal(loc=0.4, size=(200, 8)) @ rng.normal(size=(8, 8))
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real)
    value = frechet_distance(*(torch.from_numpy(v) for v in (a.mean(0), cov_a, b.mean(0), cov_b)))
    assert value.dtype == torch.float64 and expected > 1.0  # a zero would not pass by accident
    assert float(value) == pytest.approx(expected, rel=1e-8)
