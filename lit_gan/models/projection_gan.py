"""Projection-discriminator cGAN (Miyato & Koyama 2018, "cGANs with Projection Discriminator").

D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (lit_gan.nets.conditional_heads), G with
class-conditional BatchNorm (lit_gan.nets.conditional_norm). Checked against the authors'
code (pfnet-research/sngan_projection): configs/sn_cifar10.yml (adam alpha 0.0002, beta1 0.0,
beta2 0.9; n_dis 5; loss_type hinge; dim_z 128; batchsize 64), updater.py (hinge losses, G's
labels drawn uniformly), dis_models/snresnet_32.py (sum pooling, psi without bias, SNEmbedID).
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

from lit_gan.models.conditional import ConditionalGAN
from lit_gan.models.gan import NoiseName
from lit_gan.models.optim import OptimizerName, ScheduleName


class ProjectionGAN(ConditionalGAN):
    """Miyato & Koyama 2018 (CIFAR-10, the authors' configs/sn_cifar10.yml): hinge loss,
    Adam(2e-4, beta1 0, beta2 0.9), n_dis = 5 D updates per G update, z ~ N(0, I) of 128.

    D: projection discriminator with spectral normalisation; G: conditional BatchNorm. Their
    nets are ResNets; ours are the DCGAN layouts (lit_gan.nets.conditional_heads). Not
    reproduced: their lr decays linearly to 0 over the 50k G iterations (our ``linear_decay``
    counts epochs) and G's batch is 128 fakes for a real batch of 64 (ours: the batch size).
    """

    def __init__(self, num_classes: int, data_shape: Sequence[int] = (3, 32, 32),
                 latent_dim: int = 128,  # sn_cifar10.yml: dim_z 128
                 noise: NoiseName = "normal",  # their sample_continuous: "normal"
                 generator: Literal["mlp", "dcgan", "dcgan_cbn"] = "dcgan_cbn",
                 discriminator: Literal["maxout", "dcgan", "projection"] = "projection",
                 loss: str = "hinge",  # sn_cifar10.yml: loss_type hinge
                 optimizer: OptimizerName = "adam",  # sn_cifar10.yml: adam alpha 0.0002, beta1 0.0, beta2 0.9
                 lr_g: float = 2e-4, lr_d: float = 2e-4, betas: tuple[float, float] = (0.0, 0.9),
                 momentum: float = 0.0, final_momentum: float | None = None,
                 lr_schedule: ScheduleName = "constant",
                 n_critic: int = 5,  # sn_cifar10.yml: n_dis 5
                 **kwargs: Any) -> None:
        kwargs.update({k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")})
        super().__init__(**kwargs)
