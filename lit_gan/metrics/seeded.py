"""KID and IS whose random subsets come from a generator handed to them, not the global stream.

torchmetrics' ``compute()`` draws its subsets with ``torch.randperm`` from the global CPU
stream. Seeding that stream (``torch.manual_seed``) also re-seeds every CUDA device, so a
metrics pass during fit restarted the training noise on a GPU. Here the registry hands
one ``torch.Generator`` to the metrics in turn; the same ``randperm`` calls in the same
order give the values ``torch.manual_seed(seed)`` gave on the CPU.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance, poly_mmd
from torchmetrics.utilities.data import dim_zero_cat


class SeededSubsets:
    """Mixin: ``generator`` is set before ``compute()``; None means a fresh, unseeded one."""

    generator: torch.Generator | None = None

    def _draw(self, n: int, device: torch.device) -> Tensor:
        """A permutation of n, drawn on the CPU (the values torchmetrics draws), used on ``device``."""
        generator = self.generator if self.generator is not None else torch.Generator()
        return torch.randperm(n, generator=generator).to(device)  # cpu: a CPU generator, as torchmetrics draws it


class SeededKID(SeededSubsets, KernelInceptionDistance):
    def compute(self) -> tuple[Tensor, Tensor]:
        real, fake = dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)
        if min(real.shape[0], fake.shape[0]) < self.subset_size:
            raise ValueError("Argument `subset_size` should be smaller than the number of samples")
        scores = []
        for _ in range(self.subsets):  # real then fake, as torchmetrics 1.9 draws them
            f_real = real[self._draw(real.shape[0], real.device)[: self.subset_size]]
            f_fake = fake[self._draw(fake.shape[0], fake.device)[: self.subset_size]]
            scores.append(poly_mmd(f_real, f_fake, self.degree, self.gamma, self.coef))
        scores = torch.stack(scores)
        return scores.mean(), scores.std(unbiased=False)


class SeededInceptionScore(SeededSubsets, InceptionScore):
    def compute(self) -> tuple[Tensor, Tensor]:
        features = dim_zero_cat(self.features)
        features = features[self._draw(features.shape[0], features.device)]  # split membership is random
        prob, log_prob = features.softmax(dim=1).chunk(self.splits), features.log_softmax(dim=1).chunk(self.splits)
        kl = torch.stack([(p * (lp - p.mean(dim=0, keepdim=True).log())).sum(dim=1).mean().exp()
                          for p, lp in zip(prob, log_prob)])
        return kl.mean(), kl.std()
