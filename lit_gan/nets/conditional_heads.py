"""Discriminators that use the label through their head, on the DCGAN trunk.

- :class:`ACGANDiscriminator` (Odena et al. 2017, sec. 3): D reads the image only and
  outputs both a source logit and class logits, "P(S | X), P(C | X) = D(X)". Its
  ``classifier`` option adds what TAC-GAN (Gong et al. 2019: a twin class head) and ADC-GAN
  (Hou et al. 2022: one head over 2K classes, real and fake) need; lit_gan.models.acgan
  gives their losses.
- :class:`ProjectionDiscriminator` (Miyato & Koyama 2018, sec. 3: f(x, y) = y^T V phi(x)
  + psi(phi(x))): D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, with phi the features after the
  last activation summed over space (their code: ReLU then global sum pooling), psi a linear
  map without bias and embed(y) = V's row for class y (their SNEmbedID). Their nets are
  ResNets with spectral normalisation in D; here phi is the DCGAN trunk (LeakyReLU), with
  spectral normalisation on every weight (``spectral_norm``, default on) and the trunk's
  ``norm`` (default ``none``: their D has no BatchNorm).
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as sn

from lit_gan.nets.conditional_dcgan import DCGANTrunk
from lit_gan.nets.layers import NormName, init_normal_


ClassifierName = Literal["ac", "tac", "adc"]
CLASSIFIERS = get_args(ClassifierName)  # one list: the CLI's type is the one check_classifier checks


def check_classifier(classifier: str) -> None:
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {CLASSIFIERS} (ac: Odena et al. 2017, tac: twin classifiers, "
                         f"Gong et al. 2019, adc: 2K-class discriminative classifier, Hou et al. 2022), "
                         f"got {classifier!r}")


class ACGANDiscriminator(nn.Module):
    """images (N, C, S, S) -> (source logits (N,), class logits).

    Class logits by ``classifier``: ``ac`` (N, K), C(x); ``tac`` (N, 2K), [C(x) | C^mi(x)]
    with the twin C^mi a second head on the same trunk (TAC-GAN's code puts both linear
    heads on D's shared features); ``adc`` (N, 2K), one head whose first K outputs are the
    real classes and last K the fake ones. ``ac`` has exactly the parameters it always had.
    """

    def __init__(self, num_classes: int = 10, image_size: int = 32, channels: int = 3, features: int = 64,
                 norm: NormName = "batch", classifier: ClassifierName = "ac") -> None:
        check_classifier(classifier)
        super().__init__()
        self.classifier = classifier
        self.trunk = DCGANTrunk(image_size, channels, features, norm)  # (N, width, base, base)
        width, base = self.trunk.out_channels, self.trunk.base
        self.source = nn.Conv2d(width, 1, base, 1, 0)  # (N, 1, 1, 1): DCGAN's own last layer
        outputs = 2 * num_classes if classifier == "adc" else num_classes
        self.classes = nn.Conv2d(width, outputs, base, 1, 0)  # (N, K or 2K, 1, 1)
        if classifier == "tac":
            self.twin = nn.Conv2d(width, num_classes, base, 1, 0)  # (N, K, 1, 1): C^mi
        init_normal_(self)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.trunk(x)
        classes = self.classes(h).flatten(1)
        if self.classifier == "tac":
            classes = torch.cat([classes, self.twin(h).flatten(1)], dim=1)  # (N, 2K): [C | C^mi]
        return self.source(h).flatten(), classes


class ProjectionDiscriminator(nn.Module):
    """images (N, C, S, S), y (N,) -> logits (N,) = psi(phi(x)) + <embed(y), phi(x)>."""

    def __init__(self, num_classes: int = 10, image_size: int = 32, channels: int = 3, features: int = 64,
                 norm: NormName = "none", spectral_norm: bool = True) -> None:
        """spectral_norm: Miyato et al. 2018's spectral normalisation on every conv, psi and the
        embedding (the projection paper's D, their SNLinear / SNEmbedID)."""
        super().__init__()
        self.trunk = DCGANTrunk(image_size, channels, features, norm)
        width = self.trunk.out_channels
        self.psi = nn.Linear(width, 1, bias=False)  # their l5: nobias=True
        self.embed = nn.Embedding(num_classes, width)  # (K, width): their l_y
        init_normal_(self)
        nn.init.xavier_uniform_(self.embed.weight)  # their GlorotUniform; N(0, 1) would swamp psi at init
        if spectral_norm:
            for m in list(self.modules()):
                if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    sn(m)

    def phi(self, x: Tensor) -> Tensor:
        """Features (N, width): the trunk's last activation summed over space."""
        return self.trunk(x).sum(dim=(2, 3))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.phi(x)  # (N, width)
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)  # (N,)
