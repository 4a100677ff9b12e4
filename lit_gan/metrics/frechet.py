"""The Frechet distance between two Gaussians, the one computation behind FID and intra-FID.

FID = |mu_r - mu_f|^2 + tr S_r + tr S_f - 2 tr sqrt(S_r S_f) (torchmetrics' formula). The cross
term is taken through the symmetric form: tr sqrt(S_r S_f) = tr sqrt(R S_f R) with R = S_r^1/2.
R S_f R is symmetric PSD, so ``eigh`` always converges, where torchmetrics' ``eigvals(S_r S_f)``
may not: with fewer images than feature dimensions (facades' 106 test images vs 2,048 Inception
features) both covariances are singular and their product has many repeated zero eigenvalues.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_gan.metrics.device import feature_dtype


def mean_and_covariance(total: Tensor, outer_total: Tensor, count: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and unbiased covariance (divides by n - 1, as torchmetrics and numpy.cov) from the sums
    metrics keep: of the features (D,), of their outer products (D, D), and the count."""
    n = count.to(total.dtype)
    mean = total / n
    return mean, (outer_total - n * torch.outer(mean, mean)) / (n - 1)


def frechet_distance(mu_r: Tensor, cov_r: Tensor, mu_f: Tensor, cov_f: Tensor) -> Tensor:
    """|mu_r - mu_f|^2 + tr S_r + tr S_f - 2 tr sqrt(S_r S_f), by the symmetric form (module
    docstring); float64 (float32 on MPS, which has none), on the inputs' device."""
    dtype = feature_dtype(cov_r.device)
    mu_r, cov_r, mu_f, cov_f = (t.to(dtype) for t in (mu_r, cov_r, mu_f, cov_f))
    values, vectors = torch.linalg.eigh(cov_r)
    root_r = (vectors * values.clamp(min=0).sqrt()) @ vectors.T
    cross = root_r @ cov_f @ root_r
    cross = torch.linalg.eigvalsh((cross + cross.T) / 2).clamp(min=0).sqrt().sum()  # symmetric up to rounding
    return (mu_r - mu_f).square().sum() + cov_r.trace() + cov_f.trace() - 2 * cross
