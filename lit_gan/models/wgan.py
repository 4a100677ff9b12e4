"""WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017): a critic instead of a
discriminator.

Both are :class:`~lit_gan.models.gan.GAN` with the ``wasserstein`` loss (the critic
minimises ``E[D(G(z))] - E[D(x)]``, G minimises ``-E[D(G(z))]``) and a Lipschitz
constraint: weight clipping after every critic update (WGAN) or a gradient penalty in
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
from typing import Any, Literal, Sequence

import torch
from torch import Tensor

from lit_gan.losses.gradient_penalty import gradient_penalty, refuse_batch_norm, refuse_float16
from lit_gan.losses.wasserstein import clip_weights_, wasserstein_estimate
from lit_gan.models.batch_stats import SampleMode
from lit_gan.models.gan import GAN, NoiseName, real_images
from lit_gan.models.optim import OptimizerName, build_optimizer
from lit_gan.nets.remedies import pack_of

# Precisions whose autocast/parameters are float16: the penalty's inner gradient
# would need the GradScaler's scale applied to it, which Lightning's manual_backward does not do.


class WGAN(GAN):
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
        data_shape: Sequence[int] = (3, 64, 64),
        latent_dim: int = 100,
        noise: NoiseName = "normal",
        generator: Literal["mlp", "dcgan"] = "dcgan",
        discriminator: Literal["mlp", "maxout", "dcgan"] = "dcgan",
        generator_options: dict[str, Any] | None = None,
        discriminator_options: dict[str, Any] | None = None,
        optimizer: OptimizerName = "rmsprop",  # Arjovsky et al. 2017, Alg. 1: RMSProp, alpha = 5e-5
        lr_g: float = 5e-5,
        lr_d: float = 5e-5,
        betas: tuple[float, float] = (0.5, 0.999),
        clip_value: float | None = 0.01,  # Alg. 1: c = 0.01
        gp_weight: float = 0.0,
        n_critic: int = 5,  # Alg. 1: n_critic = 5
        n_gen: int = 1,
        grad_clip: float | None = None,
        sample_mode: SampleMode = "eval",
        sample_batch_size: int = 64,
        compile: bool = False,
    ) -> None:
        """
        Args:
            data_shape: one sample's shape, (C, H, W) or (2,); linked from the datamodule.
            discriminator, discriminator_options: the critic (its output is used raw).
            optimizer, lr_g, lr_d, betas: ``rmsprop`` (torch defaults otherwise) or ``adam``.
            clip_value: clip every critic parameter to [-c, c] after each critic update;
                null for none.
            gp_weight: lambda of the gradient penalty (0: none). With a penalty the critic
                must not contain BatchNorm (a per-sample penalty is not defined for a
                batch-coupled critic; Gulrajani et al. 2017, sec. 4).
            n_critic, n_gen: critic updates per generator iteration, G updates per iteration.
            sample_mode, sample_batch_size: BatchNorm when sampling, see GAN. The WGAN and
                WGAN-GP reference code samples with batch statistics (``batch_stats``, set by
                the arjovsky2017 / gulrajani2017 configs); the default ``eval`` keeps earlier
                checkpoints' samples.
        """
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"clip_value must be positive or null, got {clip_value} (the paper's is 0.01)")
        if gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight} (Gulrajani et al. 2017 use 10)")
        super().__init__(
            data_shape=data_shape,
            latent_dim=latent_dim,
            noise=noise,
            generator=generator,
            discriminator=discriminator,
            generator_options=generator_options,
            discriminator_options=discriminator_options,
            loss="wasserstein",
            label_smoothing=0.0,
            optimizer=optimizer,
            lr_g=lr_g,
            lr_d=lr_d,
            betas=betas,
            momentum=0.0,
            final_momentum=None,
            lr_schedule="constant",
            n_critic=n_critic,
            n_gen=n_gen,
            grad_clip=grad_clip,
            sample_mode=sample_mode,
            sample_batch_size=sample_batch_size,
            compile=compile,
        )
        self.clip_value, self.gp_weight = clip_value, gp_weight
        if clip_value is None and gp_weight == 0:
            warnings.warn(
                f"{type(self).__name__} with clip_value null and gp_weight 0 leaves the critic unconstrained; "
                "set clip_value (WGAN: 0.01) or gp_weight (WGAN-GP: 10)",
                stacklevel=2,
            )
        if gp_weight > 0:
            refuse_batch_norm(type(self).__name__, self.discriminator, discriminator)

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
        return ("discriminator",) if self.gp_weight > 0 else ()

    def after_discriminator_step(self) -> None:
        """Alg. 1 line 7 of Arjovsky et al. 2017: clip the critic's weights after every update."""
        if self.clip_value is not None:
            clip_weights_(self.discriminator, self.clip_value)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """The Wasserstein estimate on held-out real data vs fresh fakes."""
        real = self.whole_packs(real_images(batch))
        if real is None:
            return
        g = torch.Generator().manual_seed(batch_idx)  # leaves the global RNG stream alone
        real_out, fake_out = self.discriminator(real), self.discriminator(self.sample(real.shape[0], g))
        prefix = "test" if self.trainer.testing else "val"
        self.log(f"{prefix}/wasserstein", wasserstein_estimate(real_out, fake_out), sync_dist=True)
        self.log(f"{prefix}/d_real", real_out.mean(), sync_dist=True)

    test_step = validation_step

    # ---- optimisation: constant learning rates, no momentum ramp ------------------------
    # (GAN's versions read Goodfellow-only hyperparameters that WGAN does not take; under
    # LightningCLI ``hparams`` holds exactly this class's arguments.)
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = build_optimizer(self.generator.parameters(), hp.optimizer, hp.lr_g, hp.betas)
        opt_d = build_optimizer(self.discriminator.parameters(), hp.optimizer, hp.lr_d, hp.betas)
        return [opt_g, opt_d]

    def on_train_epoch_start(self) -> None:
        pass

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
        data_shape: Sequence[int] = (3, 64, 64),
        latent_dim: int = 100,
        noise: NoiseName = "normal",
        generator: Literal["mlp", "dcgan"] = "dcgan",
        discriminator: Literal["mlp", "maxout", "dcgan"] = "dcgan",
        generator_options: dict[str, Any] | None = None,
        discriminator_options: dict[str, Any] | None = None,
        optimizer: OptimizerName = "adam",  # Gulrajani et al. 2017, Alg. 1: Adam(1e-4, 0, 0.9)
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        betas: tuple[float, float] = (0.0, 0.9),
        clip_value: float | None = None,
        gp_weight: float = 10.0,  # Alg. 1: lambda = 10
        n_critic: int = 5,  # Alg. 1: n_critic = 5
        n_gen: int = 1,
        grad_clip: float | None = None,
        sample_mode: SampleMode = "eval",
        sample_batch_size: int = 64,
        compile: bool = False,
    ) -> None:
        """discriminator_options: null gives the dcgan critic ``{norm: layer}``; options
        that name no norm get ``norm: layer`` added for the dcgan critic."""
        if discriminator == "dcgan":
            discriminator_options = {"norm": "layer", **(discriminator_options or {})}
        kwargs = dict(locals())
        kwargs.pop("self"), kwargs.pop("__class__")
        super().__init__(**kwargs)
        self.hparams["discriminator_options"] = discriminator_options  # the norm in use, also under LightningCLI
