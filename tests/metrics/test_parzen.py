"""Parzen-window log-likelihood: against a naive scipy reference, closed-form Gaussians,
a bandwidth whose optimum is known, batching/sharding invariance and input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import Covariance, multivariate_normal

from lit_gan.evaluation.parzen import parzen_on_points
from lit_gan.metrics.parzen import (
    SIGMAS,
    best_sigma,
    flatten_unit,
    parzen_log_likelihoods,
    select_sigma,
    summarize,
)


def naive(samples: np.ndarray, points: np.ndarray, sigma: float) -> np.ndarray:
    """parzen_ll.py's formula written out: explicit differences, scipy's logsumexp."""
    n, d = samples.shape
    sq = ((points[:, None, :] - samples[None, :, :]) ** 2).sum(-1)  # (m, n)
    return logsumexp(-sq / (2 * sigma**2), axis=1) - math.log(n) - d / 2 * math.log(2 * math.pi * sigma**2)


def rand(shape, seed, low=0.0, high=1.0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).uniform(low, high, shape))


def test_sigma_grid_is_the_papers():
    assert len(SIGMAS) == 10
    assert SIGMAS[0] == pytest.approx(0.1) and SIGMAS[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(SIGMAS)), 1 / 9)


@pytest.mark.parametrize("n,m,d", [(37, 23, 5), (50, 12, 784)])
def test_matches_naive_reference(n, m, d):
    samples, points = rand((n, d), 0), rand((m, d), 1)
    sigmas = [0.05, 0.1, 0.3, 1.0, 3.0]
    got = parzen_log_likelihoods(samples, points, sigmas, batch_size=8)
    assert got.shape == (len(sigmas), m) and got.dtype == torch.float64
    want = np.stack([naive(samples.numpy(), points.numpy(), s) for s in sigmas])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=0)


def test_far_from_origin_data_keeps_precision():
    # pixel-like values shifted by 1e3: the plain ||x||^2 + ||s||^2 - 2x.s expansion is
    # off by ~1e-8 (relative) here; centring on the samples' mean brings it to ~1e-15.
    samples, points = rand((30, 20), 2) + 1e3, rand((9, 20), 3) + 1e3
    got = parzen_log_likelihoods(samples, points, [0.1, 1.0])
    want = np.stack([naive(samples.numpy(), points.numpy(), s) for s in (0.1, 1.0)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=0)


def test_wide_spread_and_large_sigmas():
    # distances from 0 to ~140 with sigmas up to 100: exponents from ~0 to -1e6, so the
    # exponent cap (-700) and the logsumexp shift both matter somewhere in this grid
    samples, points = rand((60, 2), 21, 0, 100), rand((25, 2), 22, 0, 100)
    sigmas = [0.1, 1.0, 10.0, 100.0]
    got = parzen_log_likelihoods(samples, points, sigmas, batch_size=7)
    want = np.stack([naive(samples.numpy(), points.numpy(), s) for s in sigmas])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=0)


def test_float32_inputs_are_computed_in_float64():
    samples, points = rand((40, 784), 4).float(), rand((10, 784), 5).float()
    got = parzen_log_likelihoods(samples, points, [0.1])
    want = naive(samples.double().numpy(), points.double().numpy(), 0.1)
    np.testing.assert_allclose(got[0].numpy(), want, rtol=1e-10, atol=0)


@pytest.mark.parametrize("d", [3, 784])
def test_single_sample_is_a_gaussian_log_density(d):
    s, points = rand((1, d), 6), rand((15, d), 7)
    for sigma in (0.2, 1.0):
        got = parzen_log_likelihoods(s, points, [sigma])[0].numpy()
        cov = Covariance.from_diagonal(np.full(d, sigma**2))  # no 784 x 784 eigh
        want = multivariate_normal(mean=s[0].numpy(), cov=cov).logpdf(points.numpy())
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)


def test_gaussian_samples_give_the_smoothed_gaussian_density():
    """Samples ~ N(0, tau^2 I): E_s[p_hat(x)] = p(x) = N(x; 0, v I) with v = tau^2 + sigma^2.

    Tolerance, from the sampling error of the n kernels: to first order
    mean_j log p_hat(x_j) - mean_j log p(x_j) = (1/n) sum_i g(s_i) with
    g(s) = mean_j K(x_j - s) / p(x_j) - 1, K = N(.; 0, sigma^2 I), so its sd is
    sqrt(Var g / n), and Var g = mean_jk E_s[K(x_j - s) K(x_k - s)] / (p(x_j) p(x_k)) - 1
    in closed form: E_s[K(a - s) K(b - s)] = N(a - b; 0, 2 sigma^2 I) N((a + b)/2; 0, (tau^2 +
    sigma^2/2) I). Jensen adds a bias of -mean_j r_j / 2 (r_j = the j = k term / n, ~3e-4).
    Against the closed-form expectation over x ~ N(0, rho^2 I),
    E[log p] = -(d/2) log(2 pi v) - d rho^2 / (2 v), add the Monte-Carlo sd of the mean of
    log p(x) = const - ||x||^2 / (2 v), which is sqrt(2 d) rho^2 / (2 v) / sqrt(m). Both at 4 sd.
    """
    d, n, m, tau, rho, sigma = 2, 20_000, 2_000, 1.0, 0.8, 0.3
    rng = np.random.default_rng(8)
    samples, points = rng.normal(0, tau, (n, d)), rng.normal(0, rho, (m, d))
    got = parzen_log_likelihoods(torch.from_numpy(samples), torch.from_numpy(points), [sigma])[0].numpy()

    def log_gauss(sq_norm, var):  # log N(x; 0, var I) from ||x||^2
        return -d / 2 * np.log(2 * np.pi * var) - sq_norm / (2 * var)

    v = tau**2 + sigma**2
    log_p = log_gauss((points**2).sum(1), v)
    diff = ((points[:, None] - points[None]) ** 2).sum(-1)  # (m, m)
    mid = (((points[:, None] + points[None]) / 2) ** 2).sum(-1)
    log_ratio = log_gauss(diff, 2 * sigma**2) + log_gauss(mid, tau**2 + sigma**2 / 2) - log_p[:, None] - log_p[None]
    sd = math.sqrt((np.exp(log_ratio).mean() - 1) / n)  # ~ 0.003
    bias = -((np.exp(np.diag(log_ratio)) - 1) / n).mean() / 2
    assert abs(got.mean() - log_p.mean() - bias) < 4 * sd

    closed_form = -d / 2 * math.log(2 * math.pi * v) - d * rho**2 / (2 * v)
    mc_sd = math.sqrt(2 * d) * rho**2 / (2 * v) / math.sqrt(m)  # ~ 0.013
    assert abs(got.mean() - closed_form - bias) < 4 * math.hypot(sd, mc_sd)


def test_select_sigma_finds_the_maximum_likelihood_bandwidth():
    # One kernel at s: mean ll(sigma) = -D2 / (2 sigma^2) - d log sigma + const, with
    # D2 = mean ||x - s||^2; it is concave in log sigma with its peak at sigma^2 = D2 / d.
    # Put the peak exactly on SIGMAS[6]: the grid's best is then SIGMAS[6] itself.
    d, target = 4, SIGMAS[6]
    rng = np.random.default_rng(9)
    dirs = rng.normal(size=(50, d))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    radii = rng.uniform(0.5, 1.5, 50)
    radii *= math.sqrt(d) * target / np.sqrt(np.mean(radii**2))  # mean ||x - s||^2 = d target^2
    s = torch.full((1, d), 0.5, dtype=torch.float64)
    val = s + torch.from_numpy(dirs * radii[:, None])
    sigma, means = select_sigma(s, val)
    assert sigma == pytest.approx(target, rel=1e-12)
    assert int(torch.argmax(means)) == 6 and means.shape == (10,)


def test_select_sigma_matches_brute_force_argmax():
    samples, val = rand((200, 30), 10), rand((40, 30), 11)
    sigma, means = select_sigma(samples, val, SIGMAS, batch_size=16)
    want = np.array([naive(samples.numpy(), val.numpy(), s).mean() for s in SIGMAS])
    np.testing.assert_allclose(means.numpy(), want, rtol=1e-10)
    assert sigma == SIGMAS[int(np.argmax(want))]
    assert 0 < int(np.argmax(want)) < 9  # an interior optimum: the comparison means something


def test_ties_go_to_the_first_sigma():
    sigma, _ = best_sigma([0.1, 0.2, 0.3], torch.tensor([[1.0, 3.0], [2.0, 2.0], [0.0, 0.0]]))
    assert sigma == 0.1


def test_batch_size_does_not_change_values():
    samples, points = rand((300, 16), 12), rand((45, 16), 13)
    results = [parzen_log_likelihoods(samples, points, SIGMAS, batch_size=b) for b in (1, 7, 1000)]
    for r in results[1:]:
        torch.testing.assert_close(r, results[0], rtol=1e-12, atol=0)


def test_shards_gathered_equal_the_whole():
    samples, points = rand((100, 8), 14), rand((31, 8), 15)
    whole = parzen_log_likelihoods(samples, points, [0.3])
    parts = [parzen_log_likelihoods(samples, points[a:b], [0.3]) for a, b in ((0, 10), (10, 21), (21, 31))]
    torch.testing.assert_close(torch.cat(parts, dim=1), whole, rtol=1e-12, atol=0)


def test_summarize_uses_population_std_over_sqrt_n():
    x = torch.tensor([1.0, 2.0, 3.0, 7.0], dtype=torch.float64)
    mean, sem = summarize(x)
    assert mean == pytest.approx(3.25)
    # parzen_ll.py: ll.std() / sqrt(n), numpy's default ddof=0 (ddof=1 would give 1.3150...)
    # squared deviations 5.0625 + 1.5625 + 0.0625 + 14.0625 = 20.75
    assert sem == pytest.approx(math.sqrt(20.75 / 4) / 2)
    with pytest.raises(ValueError, match="no log-likelihoods"):
        summarize(torch.empty(0))


def test_protocol_composes_selection_and_test_evaluation():
    samples, val, test = rand((150, 12), 16), rand((20, 12), 17), rand((33, 12), 18)
    mean, sem, chosen, chosen_means = parzen_on_points(samples, val, test)
    val_means = [naive(samples.numpy(), val.numpy(), s).mean() for s in SIGMAS]
    sigma = SIGMAS[int(np.argmax(val_means))]
    ll = naive(samples.numpy(), test.numpy(), sigma)
    assert chosen == sigma
    assert mean == pytest.approx(ll.mean(), rel=1e-10)
    assert sem == pytest.approx(ll.std() / math.sqrt(len(ll)), rel=1e-9)
    np.testing.assert_allclose(chosen_means, val_means, rtol=1e-10)


def test_protocol_selects_on_validation_not_test():
    samples = rand((100, 6), 19)
    near = samples[:20] + 0.001  # best with the smallest sigma
    far = rand((20, 6), 20, 5.0, 6.0)  # far from every sample: best with the largest
    assert parzen_on_points(samples, near, far)[2] == SIGMAS[0]
    assert parzen_on_points(samples, far, near)[2] == SIGMAS[-1]


def test_flatten_unit_uint8_and_float():
    u8 = torch.tensor([[[[0, 51], [255, 128]]]], dtype=torch.uint8)  # (1, 1, 2, 2)
    got = flatten_unit(u8)
    assert got.dtype == torch.float64 and got.shape == (1, 4)
    torch.testing.assert_close(got, torch.tensor([[0.0, 0.2, 1.0, 128 / 255]], dtype=torch.float64))

    f = torch.tensor([[-1.0, 0.0, 1.0, 1.0005], [-1.0005, 0.5, -0.5, 0.25]])
    got = flatten_unit(f.reshape(2, 1, 2, 2))
    want = torch.tensor([[0.0, 0.5, 1.0, 1.0], [0.0, 0.75, 0.25, 0.625]], dtype=torch.float64)
    torch.testing.assert_close(got, want)
    # lit_gan's data scaling x / 127.5 - 1 maps back to x / 255
    x = torch.arange(256, dtype=torch.uint8).reshape(1, 256)
    torch.testing.assert_close(flatten_unit(x.double() / 127.5 - 1), flatten_unit(x))


@pytest.mark.parametrize(
    "bad,match",
    [
        (torch.zeros(3, 4, dtype=torch.int64), "uint8 images"),
        (torch.full((2, 4), 255.0), r"\[-1, 1\]"),
        (torch.tensor([[0.0, float("nan")]]), "NaN"),
        (torch.zeros(4), r"\(N, \.\.\.\)"),
    ],
)
def test_flatten_unit_rejects(bad, match):
    with pytest.raises(ValueError, match=match):
        flatten_unit(bad)


def test_flatten_unit_warns_on_unit_range_floats():
    with pytest.warns(UserWarning, match=r"\[0, 1\] data"):
        flatten_unit(torch.rand(3, 1, 4, 4))


@pytest.mark.parametrize(
    "samples,points,sigmas,batch,match",
    [
        (torch.zeros(5), torch.zeros(2, 5), [0.1], 10, "2-D"),
        (torch.zeros(5, 3), torch.zeros(2, 4), [0.1], 10, "3 features but points have 4"),
        (torch.zeros(0, 3), torch.zeros(2, 3), [0.1], 10, "at least one sample"),
        (torch.zeros(5, 3), torch.zeros(2, 3), [0.1, 0.0], 10, "> 0"),
        (torch.zeros(5, 3), torch.zeros(2, 3), [], 10, "non-empty"),
        (torch.zeros(5, 3), torch.zeros(2, 3), 0.1, 10, "1-D"),
        (torch.zeros(5, 3), torch.zeros(2, 3), [0.1], 0, "batch_size"),
        (torch.zeros(5, 3, dtype=torch.uint8), torch.zeros(2, 3), [0.1], 10, "flatten_unit"),
        (torch.zeros(5, 3), torch.full((2, 3), float("inf")), [0.1], 10, "NaN or inf"),
    ],
)
def test_invalid_inputs_raise(samples, points, sigmas, batch, match):
    with pytest.raises(ValueError, match=match):
        parzen_log_likelihoods(samples, points, sigmas, batch)
