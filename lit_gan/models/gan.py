"""GAN (Goodfellow et al. 2014) and DCGAN (Radford et al. 2015): G(z) vs D(x).

Both are this one module with different nets and paper defaults; the nets are chosen by
name (``generator``, ``discriminator``) so a checkpoint holds only plain hyperparameters.
What every noise-to-sample model shares (nets, sampling, the optimizer) is
lit_gan.models.noise_gan.NoiseGAN; here are the GAN losses and the Goodfellow et al.
optimisation (SGD with a momentum ramp, lr decay).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import torch
from torch import Tensor

from lit_gan.losses import get_objective
from lit_gan.models.arguments import own_arguments
from lit_gan.models.noise_gan import DiscriminatorName, GeneratorName, NoiseGAN, NoiseName, real_images
from lit_gan.models.optim import OptimizerName, ScheduleName, build_schedule, ramped_momentum

__all__ = ["GAN", "DCGAN", "NoiseName", "real_images"]


class GAN(NoiseGAN):
    """Goodfellow et al. 2014; defaults are the paper's MNIST setup (authors' mnist.yaml).

    G: 100 -> 1200 -> 1200 -> 784 (ReLU), D: maxout 240x5 x2 with dropout, SGD lr 0.1,
    momentum 0.5 -> 0.7 over 250 epochs, lr / 1.000004 per iteration down to 1e-6.
    The paper's noise is uniform; ``noise="normal"`` is the later convention.
    (The authors' code also halves D's loss: experiments/goodfellow2014/gan_mnist.yaml sets
    ``d_loss_scale: 0.5``; the default 1.0 keeps eq. 1 as printed.)
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (1, 28, 28),
        noise: NoiseName = "uniform",
        generator: GeneratorName = "mlp",
        discriminator: DiscriminatorName = "maxout",
        loss: str = "non_saturating",
        label_smoothing: float = 0.0,
        optimizer: OptimizerName = "sgd",
        lr_g: float = 0.1,
        lr_d: float = 0.1,
        momentum: float = 0.5,
        final_momentum: float | None = 0.7,
        momentum_ramp_epochs: int = 250,
        lr_schedule: ScheduleName = "exponential",
        lr_decay: float = 1.000004,
        min_lr: float = 1e-6,
        constant_epochs: int = 100,
        decay_epochs: int = 100,
        d_loss_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        """
        Args:
            loss: ``non_saturating`` (default), ``minimax`` (eq. 1), ``least_squares``
                (``least_squares_sigmoid``: compare_gan's), ``hinge`` or ``wasserstein``;
                see lit_gan.losses.
            label_smoothing: one-sided; D's target for real data becomes 1 - this. Only for
                losses with a real target (non_saturating, minimax, least_squares); the
                others raise.
            momentum, final_momentum, momentum_ramp_epochs: SGD momentum ramp; null final
                keeps it constant.
            lr_schedule, lr_decay, min_lr, constant_epochs, decay_epochs: the learning rates'
                schedule (lit_gan.models.optim.build_schedule).
            d_loss_scale: multiplies D's loss (and so, with SGD, D's step). The authors'
                Goodfellow et al. 2014 code minimises 0.5 * (real + fake) cross-entropy;
                1.0 is eq. 1 as printed and every later paper's convention.
            The rest: lit_gan.models.noise_gan.NoiseGAN.
        """
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if not d_loss_scale > 0:
            raise ValueError(f"d_loss_scale must be > 0, got {d_loss_scale} (Goodfellow et al. 2014's code: 0.5)")
        self.momentum, self.d_loss_scale = momentum, d_loss_scale  # read while NoiseGAN builds (optimizer_options)
        super().__init__(data_shape=data_shape, noise=noise, generator=generator, discriminator=discriminator,
                         optimizer=optimizer, lr_g=lr_g, lr_d=lr_d, **kwargs)
        self.objective = get_objective(loss)
        if label_smoothing > 0 and not self.objective.label_smoothing:
            raise ValueError(
                f"label_smoothing={label_smoothing} does not apply to the {loss!r} loss (it has no real target); "
                "set label_smoothing: 0, or use non_saturating, minimax or least_squares"
            )
        if loss == "wasserstein" and type(self).discriminator_loss is GAN.discriminator_loss:
            warnings.warn(
                "loss 'wasserstein' in a GAN has no Lipschitz constraint on the critic, so its scores can grow "
                "without bound; use lit_gan.models.WGAN (weight clipping) or lit_gan.models.WGANGP (gradient penalty)",
                stacklevel=2,
            )

    def optimizer_options(self) -> dict[str, Any]:
        return {"momentum": self.momentum}

    # ---- losses -------------------------------------------------------------------
    def discriminator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        real = real_images(batch)
        with torch.no_grad():
            fake = self.generator(self.noise(real.shape[0]))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss = self.d_loss_scale * self.objective.discriminator(real_logits, fake_logits, 1.0 - self.hparams.label_smoothing)
        return loss, {"train/d_real": self.mean_output(real_logits), "train/d_fake": self.mean_output(fake_logits)}

    def mean_output(self, out: Tensor) -> Tensor:
        """D's mean output as its loss reads it: the probability sigmoid(logit) for the
        cross-entropy losses, the raw score for least_squares / hinge / wasserstein."""
        return torch.sigmoid(out).mean() if self.objective.output == "logit" else out.mean()

    def held_out_scores(self, real_out: Tensor, fake_out: Tensor) -> dict[str, Tensor]:
        return {"loss_d": self.d_loss_scale * self.objective.discriminator(real_out, fake_out),
                "d_real": self.mean_output(real_out)}

    # ---- optimisation ---------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        optimizers = super().configure_optimizers()
        schedules = [build_schedule(o, hp.lr_schedule, hp.lr_decay, hp.min_lr, hp.constant_epochs, hp.decay_epochs)
                     for o in optimizers]
        return optimizers, [s for s in schedules if s is not None]

    def on_train_epoch_start(self) -> None:
        hp = self.hparams
        if hp.optimizer == "adam" or hp.final_momentum is None:
            return
        m = ramped_momentum(self.current_epoch, hp.momentum, hp.final_momentum, hp.momentum_ramp_epochs)
        for opt in self.optimizers():
            for group in opt.param_groups:
                group["momentum"] = m
        self.log("train/momentum", m)


class DCGAN(GAN):
    """Radford et al. 2015: conv nets, Adam(2e-4, beta1 0.5), N(0, 0.02) init, z ~ N(0, I).

    Sec. 4: "Adam ... learning rate of 0.0002 ... beta1 at the suggested value of 0.9
    resulted in training oscillation ... reducing it to 0.5 helped stabilize training".
    The reference code samples with batch statistics: the radford2015 configs set
    ``sample_mode: batch_stats``; the default ``eval`` keeps earlier checkpoints' samples.
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 64, 64),
        noise: NoiseName = "normal",
        generator: GeneratorName = "dcgan",
        discriminator: DiscriminatorName = "dcgan",
        optimizer: OptimizerName = "adam",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        momentum: float = 0.0,
        final_momentum: float | None = None,
        momentum_ramp_epochs: int = 0,
        lr_schedule: ScheduleName = "constant",
        lr_decay: float = 1.0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**own_arguments(locals()), **kwargs)
