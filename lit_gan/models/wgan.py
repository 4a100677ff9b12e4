"""WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017): a critic instead of a
discriminator.

Both are a :class:`~lit_gan.models.noise_gan.NoiseGAN` (as GAN is) with the ``wasserstein``
loss (the critic minimises ``E[D(G(z))] - E[D(x)]``, G minimises ``-E[D(G(z))]``), constant
learning rates and a Lipschitz constraint: weight clipping after every critic update (WGAN) or a gradient penalty in
the critic's loss (WGAN-GP). Nets and noise are chosen by name as in GAN/DCGAN:
``dcgan`` nets (the defaults) for images, ``mlp`` nets for the 2-D toys
(experiments/toy/wgan_ring8.yaml, wgan_gp_ring8.yaml).

One training batch is one critic update; every ``n_critic``-th batch (5 here) is followed
by a generator update, as Alg. 1 of both papers (a fresh real batch per critic update).

Logged: ``train/wasserstein`` = E[D(x)] - E[D(G(z))] on the critic's batch (the critic's
estimate of W, up to its Lipschitz constant; minus the critic loss without penalty),
``train/gradient_penalty`` (the weighted term added to the critic loss, WGAN-GP),
``train/d_real`` / ``train/d_fake`` (mean raw critic scores), ``val/wasserstein`` on
held-out data.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from lit_gan.losses import get_objective
from lit_gan.losses.gradient_penalty import gradient_penalty, refuse_batch_norm, refuse_float16, refuse_r1_with_clipping
from lit_gan.losses.wasserstein import clip_weights_, wasserstein_estimate
from lit_gan.models.arguments import own_arguments
from lit_gan.models.noise_gan import NoiseGAN, real_images
from lit_gan.models.optim import OptimizerName
from lit_gan.nets.remedies import pack_of

# What WGAN recorded among its hyperparameters while it was a GAN subclass: a checkpoint of a WGAN
# built from Python (not LightningCLI) hands these back to __init__ when it is loaded.
RECORDED_AS_GAN = {"loss": "wasserstein", "label_smoothing": 0.0, "momentum": 0.0, "final_momentum": None,
                   "momentum_ramp_epochs": 250, "lr_schedule": "constant", "lr_decay": 1.000004, "min_lr": 1e-6,
                   "constant_epochs": 100, "decay_epochs": 100, "d_loss_scale": 1.0}


def without_gan_records(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` less the values RECORDED_AS_GAN; any other value of those names stays, to be refused."""
    return {k: v for k, v in kwargs.items() if k not in RECORDED_AS_GAN or RECORDED_AS_GAN[k] != v}


class WGAN(NoiseGAN):
    """Arjovsky et al. 2017, Alg. 1: RMSProp lr 5e-5, c = 0.01, n_critic = 5 (m = 64 in configs).

    Defaults follow the paper's LSUN setup: DCGAN nets with z ~ N(0, I) of 100 dimensions
    and the DCGAN critic, BatchNorm included (their code keeps it), without a sigmoid.
    Compared with :class:`~lit_gan.models.gan.DCGAN`: the loss is ``wasserstein``, the
    optimizer RMSProp (the paper: momentum-based Adam made training unstable, sec. 4),
    lr 5e-5 instead of 2e-4, 5 critic steps per generator step, and clipping.
    (The authors' code also runs 100 critic steps for the first 25 generator iterations
    and every 500th; that is not in Alg. 1 and not done here.)
    """

    def __init__(
        self,
        optimizer: OptimizerName = "rmsprop",  # Arjovsky et al. 2017, Alg. 1: RMSProp, alpha = 5e-5
        lr_g: float = 5e-5,
        lr_d: float = 5e-5,
        clip_value: float | None = 0.01,  # Alg. 1: c = 0.01
        gp_weight: float = 0.0,
        n_critic: int = 5,  # Alg. 1: n_critic = 5
        **kwargs: Any,
    ) -> None:
        """
        Args:
            optimizer, lr_g, lr_d: ``rmsprop`` (torch defaults otherwise) or ``adam`` (with ``betas``).
            clip_value: clip every critic parameter to [-c, c] after each critic update;
                null for none.
            gp_weight: lambda of the gradient penalty (0: none). With a penalty the critic
                must not contain BatchNorm (a per-sample penalty is not defined for a
                batch-coupled critic; Gulrajani et al. 2017, sec. 4).
            n_critic: critic updates per generator iteration.
            The rest: lit_gan.models.noise_gan.NoiseGAN; ``discriminator`` is the critic (its
                output is used raw). The WGAN and WGAN-GP reference code samples with batch
                statistics (``sample_mode: batch_stats``, set by the arjovsky2017 / gulrajani2017
                configs); the default ``eval`` keeps earlier checkpoints' samples.
        """
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"clip_value must be positive or null, got {clip_value} (the paper's is 0.01)")
        if gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight} (Gulrajani et al. 2017 use 10)")
        kwargs = without_gan_records(kwargs)
        refuse_r1_with_clipping(kwargs.get("r1_gamma", 0.0), clip_value)
        super().__init__(optimizer=optimizer, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic, **kwargs)
        self.objective = get_objective("wasserstein")
        self.clip_value, self.gp_weight = clip_value, gp_weight
        if clip_value is None and gp_weight == 0 and not self.r1_gamma > 0:
            warnings.warn(
                f"{type(self).__name__} with clip_value null and gp_weight 0 leaves the critic unconstrained; "
                "set clip_value (WGAN: 0.01), gp_weight (WGAN-GP: 10) or r1_gamma",
                stacklevel=2,
            )
        if gp_weight > 0:
            refuse_batch_norm(type(self).__name__, self.discriminator, self.hparams.discriminator)

    # ---- losses -------------------------------------------------------------------
    def discriminator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        real = real_images(batch)
        with torch.no_grad():
            fake = self.generator(self.noise(real.shape[0]))
        real_out, fake_out = self.discriminator(real), self.discriminator(fake)
        loss = self.objective.discriminator(real_out, fake_out)
        logs = {
            "train/wasserstein": wasserstein_estimate(real_out, fake_out),
            "train/d_real": real_out.mean(),
            "train/d_fake": fake_out.mean(),
        }
        if self.gp_weight > 0:
            penalty = gradient_penalty(self.discriminator, real, fake, self.gp_weight, group=pack_of(self.discriminator))
            loss = loss + penalty
            logs["train/gradient_penalty"] = penalty
        return loss, logs

    def double_backward_nets(self) -> tuple[str, ...]:
        return ("discriminator",) if self.gp_weight > 0 else super().double_backward_nets()

    def after_discriminator_step(self) -> None:
        """Alg. 1 line 7 of Arjovsky et al. 2017: clip the critic's weights after every update."""
        if self.clip_value is not None:
            clip_weights_(self.discriminator, self.clip_value)

    def held_out_scores(self, real_out: Tensor, fake_out: Tensor) -> dict[str, Tensor]:
        """The Wasserstein estimate on held-out real data vs fresh fakes."""
        return {"wasserstein": wasserstein_estimate(real_out, fake_out), "d_real": real_out.mean()}

    def on_fit_start(self) -> None:
        super().on_fit_start()
        if self.gp_weight > 0:
            refuse_float16(self.trainer.precision)


class WGANGP(WGAN):
    """Gulrajani et al. 2017, Alg. 1: lambda = 10, n_critic = 5, Adam(1e-4, beta1 0, beta2 0.9), m = 64.

    No weight clipping and no BatchNorm in the critic: the default ``dcgan`` critic uses
    layer normalisation (sec. 4, "we recommend layer normalization as a drop-in
    replacement for batch normalization"); ``norm: none`` is the other allowed choice and a
    BatchNorm critic is refused. The generator keeps its BatchNorm.
    """

    def __init__(
        self,
        optimizer: OptimizerName = "adam",  # Gulrajani et al. 2017, Alg. 1: Adam(1e-4, 0, 0.9)
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        betas: tuple[float, float] = (0.0, 0.9),
        clip_value: float | None = None,
        gp_weight: float = 10.0,  # Alg. 1: lambda = 10
        **kwargs: Any,
    ) -> None:
        super().__init__(**own_arguments(locals()), **kwargs)

    def discriminator_defaults(self, discriminator: str) -> dict[str, Any]:
        """The dcgan critic gets ``norm: layer`` unless its options name a norm (a BatchNorm critic is
        refused with a penalty); the checkpoint's hparams record the options in use."""
        return {"norm": "layer"} if discriminator == "dcgan" else {}
