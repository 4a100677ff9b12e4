"""Class-conditional BatchNorm (de Vries et al. 2017; Dumoulin et al. 2017), as the
projection-discriminator paper's generator uses it (Miyato & Koyama 2018, sec. 5: "conditional
batch normalization" in G; reference code: CategoricalConditionalBatchNormalization).

The batch is normalised without an affine transform, then scaled and shifted by a gamma and a
beta looked up per sample from its class: one (num_features,) row of each per class.
"""

from __future__ import annotations

from torch import Tensor, nn

from lit_gan.nets.label_input import embed_labels


class ConditionalBatchNorm2d(nn.Module):
    """x (N, C, H, W), y (N,) class indices -> gamma[y] * BN(x) + beta[y], (N, C, H, W).

    With class weights y (N, K) (lit_gan.nets.label_input) gamma and beta are the weighted
    mixes of the classes' rows: (y @ gamma) * BN(x) + y @ beta.

    gamma starts at 1 and beta at 0 for every class (the reference code's initial_gamma=1,
    initial_beta=0), so at initialisation this is a plain BatchNorm. The inner
    ``nn.BatchNorm2d(affine=False)`` holds the running statistics; ``sample_mode`` and
    ``batch_statistics`` (lit_gan.models.batch_stats) find it like any BatchNorm.
    """

    def __init__(self, num_features: int, num_classes: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=False)
        self.gamma = nn.Embedding(num_classes, num_features)  # (K, C)
        self.beta = nn.Embedding(num_classes, num_features)  # (K, C)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.bn(x)  # (N, C, H, W)
        gamma, beta = embed_labels(y, self.gamma), embed_labels(y, self.beta)  # (N, C) each
        return gamma[:, :, None, None] * h + beta[:, :, None, None]
