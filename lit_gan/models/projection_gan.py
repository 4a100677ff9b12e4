"""Projection-discriminator cGAN (Miyato & Koyama 2018, "cGANs with Projection Discriminator").

D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (lit_gan.nets.conditional_heads), G with
class-conditional BatchNorm (lit_gan.nets.conditional_norm). Checked against the authors'
code (pfnet-research/sngan_projection): configs/sn_cifar10.yml (adam alpha 0.0002, beta1 0.0,
beta2 0.9; n_dis 5; loss_type hinge; dim_z 128; batchsize 64), updater.py (hinge losses, G's
labels drawn uniformly), dis_models/snresnet_32.py (sum pooling, psi without bias, SNEmbedID).
"""

from __future__ import annotations

from typing import Any, Sequence

from lit_gan.models.arguments import own_arguments
from lit_gan.models.conditional import ConditionalDCGAN, ConditionalDiscriminatorName, ConditionalGeneratorName


class ProjectionGAN(ConditionalDCGAN):
    """Miyato & Koyama 2018 (CIFAR-10, the authors' configs/sn_cifar10.yml): hinge loss,
    Adam(2e-4, beta1 0, beta2 0.9), n_dis = 5 D updates per G update, z ~ N(0, I) of 128.

    D: projection discriminator with spectral normalisation; G: conditional BatchNorm. Their
    nets are ResNets; ours are the DCGAN layouts (lit_gan.nets.conditional_heads). Not
    reproduced: their lr decays linearly to 0 over the 50k G iterations (our ``linear_decay``
    counts epochs) and G's batch is 128 fakes for a real batch of 64 (ours: the batch size).
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        latent_dim: int = 128,  # sn_cifar10.yml: dim_z 128
        generator: ConditionalGeneratorName = "dcgan_cbn",
        discriminator: ConditionalDiscriminatorName = "projection",
        loss: str = "hinge",  # sn_cifar10.yml: loss_type hinge
        betas: tuple[float, float] = (0.0, 0.9),  # sn_cifar10.yml: adam alpha 0.0002, beta1 0.0, beta2 0.9
        n_critic: int = 5,  # sn_cifar10.yml: n_dis 5
        **kwargs: Any,
    ) -> None:
        super().__init__(**own_arguments(locals()), **kwargs)
