"""Gaussian Parzen-window log-likelihood, the protocol of Goodfellow et al. 2014, Table 1.

Their released ``parzen_ll.py`` (goodfeli/adversarial, credit Yann N. Dauphin) does:

1. fit an isotropic Gaussian Parzen window on 10,000 generated samples, pixels in [0, 1];
2. pick the bandwidth sigma from ``numpy.logspace(-1, 0, 10)`` by the mean log-likelihood
   of 1,000 validation images (MNIST: training images 50,000..50,999, i.e. the first 1,000
   of ``MNISTDataModule``'s validation split); ties go to the first (``numpy.argmax``);
3. report the test set's mean log-likelihood and its standard error
   ``ll.std() / sqrt(n_test)`` with numpy's default ``ddof=0``.

Per point x in R^d, with samples s_1..s_n::

    log p(x) = logsumexp_i(-||x - s_i||^2 / (2 sigma^2)) - log n - (d/2) log(2 pi sigma^2)

Differences from the Theano original: everything here is float64 (Theano ran in floatX,
usually float32; here float32 only on MPS, which has no float64: lit_gan.metrics.device) and
runs on the samples' device, and squared distances come from ||x||^2 + ||s||^2 - 2 x.s (after
centring both on the samples' mean, which shrinks the norms and so the cancellation error)
rather than from explicit differences. Neither changes a reported digit.

Sharding: ``parzen_log_likelihoods`` is per point and ``summarize`` is the reduction, so
K processes can each evaluate a shard of the test points, gather the per-point values
(no padded duplicates!) and call ``summarize`` once.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence

import numpy
import torch
from torch import Tensor
from tqdm.auto import tqdm

from lit_gan.metrics.device import feature_dtype

# Goodfellow et al. 2014, parzen_ll.py: numpy.logspace(--sigma_start -1, --sigma_end 0, num=--cross_val 10)
SIGMAS = numpy.logspace(-1, 0, 10)
# Table 1 protocol sizes (parzen_ll.py defaults: --num_samples 10000, --limit_size 1000).
NUM_SAMPLES = 10_000
NUM_VAL = 1_000
# exp(-700) ~ 1e-304, still a normal float64; exp(-80) ~ 2e-35 a normal float32 (see parzen_log_likelihoods)
_MAX_EXPONENT = {torch.float64: 700.0, torch.float32: 80.0}
_RANGE_SLACK = 1e-3  # float images may overshoot [-1, 1] by this much (then are clamped)


def flatten_unit(images: Tensor) -> Tensor:
    """Images (N, ...) -> float64 (N, prod(...)) with pixels in [0, 1], the protocol's scale,
    on the images' device (float32 on MPS).

    uint8 is divided by 255; float images are taken to be in [-1, 1] (lit_gan's tanh
    outputs and data) and mapped by (x + 1) / 2, clamped to [0, 1]. Anything else is
    rejected: other integer dtypes, NaN/inf, floats outside [-1, 1] by more than 1e-3.
    """
    if not isinstance(images, Tensor):
        raise TypeError(f"flatten_unit expects a torch.Tensor, got {type(images).__name__}")
    if images.ndim < 2:
        raise ValueError(
            f"flatten_unit expects a batch of images shaped (N, ...), got shape {tuple(images.shape)}; "
            "for a single image add the batch dimension with images.unsqueeze(0)"
        )
    flat = images.reshape(images.shape[0], -1)
    dtype = feature_dtype(images.device)
    if images.dtype == torch.uint8:
        return flat.to(dtype) / 255.0
    if not images.is_floating_point():
        raise ValueError(
            f"flatten_unit accepts uint8 images in [0, 255] or float images in [-1, 1], got dtype {images.dtype}"
        )
    flat = flat.to(dtype)
    if flat.numel() == 0:
        return flat
    if not torch.isfinite(flat).all():
        raise ValueError("flatten_unit: the images contain NaN or inf values")
    lo, hi = flat.min().item(), flat.max().item()
    if lo < -1 - _RANGE_SLACK or hi > 1 + _RANGE_SLACK:
        raise ValueError(
            f"flatten_unit: float images must lie in [-1, 1], found values in [{lo:.4g}, {hi:.4g}]. "
            "Pass uint8 images for [0, 255] data; scale other ranges to [-1, 1] first."
        )
    if lo >= 0:
        warnings.warn(
            "flatten_unit: these float images have no negative value; they look like [0, 1] data, "
            "but float input is read as [-1, 1] and mapped to [(x + 1) / 2], so [0, 1] data would "
            "land in [0.5, 1]. Pass images * 2 - 1 if they really are in [0, 1].",
            stacklevel=2,
        )
    return ((flat + 1.0) / 2.0).clamp_(0.0, 1.0)


def _check_points(name: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (count, features), got shape {tuple(x.shape)}; "
            "flatten images with flatten_unit(images) first"
        )
    if not x.is_floating_point():
        raise ValueError(
            f"{name} has dtype {x.dtype}; expected floating pixels in [0, 1] (convert with flatten_unit)"
        )
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf values")


def _check_sigmas(sigmas: Sequence[float] | Tensor) -> list[float]:
    """The bandwidths as Python floats (numpy: no tensor, so none on a device without float64)."""
    s = numpy.asarray(sigmas.detach().cpu() if isinstance(sigmas, Tensor) else sigmas, dtype=numpy.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"sigmas must be a non-empty 1-D sequence of bandwidths, got shape {tuple(s.shape)}")
    if not (numpy.isfinite(s).all() and (s > 0).all()):
        raise ValueError(f"every sigma must be finite and > 0, got {s.tolist()}")
    return s.tolist()


@torch.no_grad()
def parzen_log_likelihoods(
    samples: Tensor,
    points: Tensor,
    sigmas: Sequence[float] | Tensor,
    batch_size: int = 500,
    *,
    progress: bool = False,
) -> Tensor:
    """log p(x) of every point under the Parzen window of every sigma: float64 (len(sigmas), m)
    (float32 on MPS, which has no float64).

    samples (n, d) and points (m, d) are float, pixels in [0, 1]. Work happens on
    ``samples.device``; points move there one batch at a time, and the squared distances
    of a batch (batch_size x n) are computed once and reused for every sigma, so
    memory stays at a few batch_size x n x 8 bytes. The result is on ``samples.device``.
    """
    _check_points("samples", samples)
    _check_points("points", points)
    n, d = samples.shape
    if n < 1:
        raise ValueError("samples is empty: the Parzen window needs at least one sample")
    if points.shape[1] != d:
        raise ValueError(
            f"samples have {d} features but points have {points.shape[1]}: both must be flattened the same way"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    sig = _check_sigmas(sigmas)
    coef = [1.0 / (2.0 * s * s) for s in sig]  # 1 / (2 sigma^2)
    log_norm = [-math.log(n) - 0.5 * d * math.log(2.0 * math.pi * s * s) for s in sig]

    device = samples.device
    dtype = feature_dtype(device)
    s64 = samples.to(dtype)
    centre = s64.mean(0)
    s64 = s64 - centre  # distances are translation invariant; smaller norms, less cancellation
    s_sq = s64.square().sum(1).unsqueeze(0)  # (1, n)
    m = points.shape[0]
    out = torch.empty(len(coef), m, dtype=dtype, device=device)
    buf = None
    starts = range(0, m, batch_size)
    for start in tqdm(starts, desc="parzen", unit="batch", file=sys.stderr, disable=not progress):
        x = points[start : start + batch_size].to(device=device, dtype=dtype) - centre  # (b, d)
        d2 = torch.addmm(s_sq, x, s64.T, alpha=-2.0)  # ||s||^2 - 2 x.s, (b, n)
        d2.add_(x.square().sum(1, keepdim=True)).clamp_(min=0.0)  # + ||x||^2
        d_min = d2.amin(1)  # (b,): the nearest sample sets each row's logsumexp shift
        d2.sub_(d_min.unsqueeze(1))  # now >= 0, shared by every sigma
        if buf is None or buf.shape != d2.shape:
            buf = torch.empty_like(d2)
        for k, (c, z) in enumerate(zip(coef, log_norm)):
            # logsumexp_i(-c d2_i) = -c d_min + log sum_i exp(-c (d2_i - d_min)). Exponents are
            # capped at -700 (exp = 1e-304): the sum holds exp(0) = 1, so n terms of 1e-304
            # cannot change it in float64 (the result is bit-identical), and exp skips its
            # slow subnormal range; this is 2-3x faster than torch.logsumexp on CPU.
            torch.clamp(d2, max=_MAX_EXPONENT[dtype] / c, out=buf).mul_(-c).exp_()
            out[k, start : start + x.shape[0]] = buf.sum(1).log_() - c * d_min + z
    return out


def best_sigma(sigmas: Sequence[float] | Tensor, val_log_likelihoods: Tensor) -> tuple[float, Tensor]:
    """(the sigma with the highest mean, the mean per sigma) from (len(sigmas), m_val) values.

    Split from ``select_sigma`` so sharded callers can gather the validation values first.
    Ties go to the first sigma, as ``numpy.argmax`` in parzen_ll.py.
    """
    sig = _check_sigmas(sigmas)
    if val_log_likelihoods.ndim != 2 or val_log_likelihoods.shape[0] != len(sig):
        raise ValueError(
            f"expected validation log-likelihoods of shape ({len(sig)}, m), got {tuple(val_log_likelihoods.shape)}"
        )
    if val_log_likelihoods.shape[1] == 0:
        raise ValueError("no validation points: sigma cannot be selected")
    means = val_log_likelihoods.to(feature_dtype(val_log_likelihoods.device)).mean(1).cpu()
    return float(sig[int(torch.argmax(means))]), means


def select_sigma(
    samples: Tensor,
    val_points: Tensor,
    sigmas: Sequence[float] | Tensor = SIGMAS,
    batch_size: int = 500,
) -> tuple[float, Tensor]:
    """The bandwidth maximising the mean validation log-likelihood, and that mean per sigma."""
    return best_sigma(sigmas, parzen_log_likelihoods(samples, val_points, sigmas, batch_size))


def summarize(log_likelihoods: Tensor) -> tuple[float, float]:
    """(mean, standard error) of per-point values: std with ddof=0 / sqrt(n), as parzen_ll.py."""
    ll = log_likelihoods.to(feature_dtype(log_likelihoods.device)).reshape(-1)
    if ll.numel() == 0:
        raise ValueError("no log-likelihoods to summarize")
    return ll.mean().item(), ll.std(correction=0).item() / math.sqrt(ll.numel())
