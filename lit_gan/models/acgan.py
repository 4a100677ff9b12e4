"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis With Auxiliary Classifier GANs").

Sec. 3: every generated sample has a class c ~ p_c and X_fake = G(c, z); D gives both
P(S | X) and P(C | X). With

    L_S = E[log P(S = real | X_real)] + E[log P(S = fake | X_fake)]
    L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)]

"D is trained to maximize L_S + L_C while G is trained to maximize L_C - L_S".

Here, as losses to minimise: D: adversarial(real, fake) + w * (CE_real + CE_fake); G:
adversarial_G(fake) + w * CE_fake, with w = ``class_loss_weight`` (1 in the paper) and CE the
class cross-entropy. The adversarial terms are the chosen objective (lit_gan.losses), so
``loss: minimax`` is the paper's -L_S for G and ``non_saturating`` (the default) its usual
replacement.

Logged besides GAN's keys: ``train/loss_class_real``, ``train/loss_class_fake`` (D's step,
unweighted), ``val/class_accuracy_real`` (D's class head on held-out real images).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch.nn.functional as F
from torch import Tensor

from lit_gan.models.conditional import ConditionalDCGAN
from lit_gan.nets.conditional import ACGAN_DISCRIMINATORS

ACGANDiscriminatorName = ACGAN_DISCRIMINATORS.names()


class ACGAN(ConditionalDCGAN):
    """Odena et al. 2017 on the DCGAN layout: G reads concat(z, embedding(c)), D is the DCGAN
    trunk with a source head and a class head (lit_gan.nets.conditional_heads).

    Optimiser: Adam(2e-4, beta1 0.5, beta2 0.999) and z ~ N(0, I) of 100 dims, DCGAN's values;
    we recall the paper's appendix tables giving the same Adam settings for CIFAR-10 but could
    not check them here. Their nets (larger, with dropout in D) are not reproduced.
    """

    discriminator_names = ACGAN_DISCRIMINATORS

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        class_loss_weight: float = 1.0,  # sec. 3: L_S + L_C, unweighted
        discriminator: ACGANDiscriminatorName = "acgan",
        **kwargs: Any,
    ) -> None:
        if not class_loss_weight >= 0:
            raise ValueError(f"class_loss_weight must be >= 0, got {class_loss_weight} (the paper's is 1)")
        self.class_loss_weight = class_loss_weight
        super().__init__(data_shape=data_shape, discriminator=discriminator, **kwargs)

    def critic(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return self.discriminator(x)  # D reads the image only: (source logits, class logits)

    def class_loss_d(self, real_cls: Tensor, labels: Tensor, fake_cls: Tensor, fake_labels: Tensor,
                     logs: dict[str, Tensor]) -> Tensor:
        real_ce, fake_ce = F.cross_entropy(real_cls, labels), F.cross_entropy(fake_cls, fake_labels)
        logs["train/loss_class_real"], logs["train/loss_class_fake"] = real_ce, fake_ce
        return self.class_loss_weight * (real_ce + fake_ce)

    def class_loss_g(self, fake_cls: Tensor, fake_labels: Tensor, logs: dict[str, Tensor]) -> Tensor:
        return self.class_loss_weight * F.cross_entropy(fake_cls, fake_labels)
