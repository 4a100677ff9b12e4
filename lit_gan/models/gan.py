"""GAN (Goodfellow et al. 2014) and DCGAN (Radford et al. 2015): G(z) vs D(x).

Both are this one module with different nets and paper defaults; the nets are chosen by
name (``generator``, ``discriminator``) so a checkpoint holds only plain hyperparameters.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, Sequence

import torch
from torch import Tensor

from lit_gan.losses import get_objective
from lit_gan.models.adversarial import AdversarialModel
from lit_gan.models.batch_stats import SAMPLE_MODES, SampleMode, batch_statistics
from lit_gan.models.optim import (OptimizerName, ScheduleName, build_optimizer, build_schedule, optimizer_problem,
                                  ramped_momentum)
from lit_gan.nets import build_discriminator, build_generator
from lit_gan.nets.remedies import pack_of


NoiseName = Literal["uniform", "uniform_pm1", "normal"]


def real_images(batch: Any) -> Tensor:
    """Datamodules yield ``(x, label)``; unconditional models only need ``x``."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class GAN(AdversarialModel):
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
        latent_dim: int = 100,
        noise: NoiseName = "uniform",
        generator: Literal["mlp", "dcgan"] = "mlp",
        discriminator: Literal["mlp", "maxout", "dcgan"] = "maxout",
        generator_options: dict[str, Any] | None = None,
        discriminator_options: dict[str, Any] | None = None,
        loss: str = "non_saturating",
        label_smoothing: float = 0.0,
        optimizer: OptimizerName = "sgd",
        lr_g: float = 0.1,
        lr_d: float = 0.1,
        betas: tuple[float, float] = (0.5, 0.999),
        momentum: float = 0.5,
        final_momentum: float | None = 0.7,
        momentum_ramp_epochs: int = 250,
        lr_schedule: ScheduleName = "exponential",
        lr_decay: float = 1.000004,
        min_lr: float = 1e-6,
        constant_epochs: int = 100,
        decay_epochs: int = 100,
        n_critic: int = 1,
        n_gen: int = 1,
        grad_clip: float | None = None,
        d_loss_scale: float = 1.0,
        sample_mode: SampleMode = "eval",
        sample_batch_size: int = 64,
        compile: bool = False,
    ) -> None:
        """
        Args:
            data_shape: one sample's shape, (C, H, W) or (2,); linked from the datamodule.
            noise: distribution of z: ``uniform`` is U(-sqrt 3, sqrt 3) (unit variance, the
                Goodfellow et al. 2014 code), ``uniform_pm1`` is U(-1, 1) (compare_gan,
                Lucic et al. 2018), ``normal`` is N(0, I).
            loss: ``non_saturating`` (default), ``minimax`` (eq. 1), ``least_squares``
                (``least_squares_sigmoid``: compare_gan's), ``hinge`` or ``wasserstein``;
                see lit_gan.losses.
            label_smoothing: one-sided; D's target for real data becomes 1 - this. Only for
                losses with a real target (non_saturating, minimax, least_squares); the
                others raise.
            momentum, final_momentum, momentum_ramp_epochs: SGD momentum ramp; null final
                keeps it constant.
            n_critic, n_gen: D updates per G update, G updates per iteration.
            d_loss_scale: multiplies D's loss (and so, with SGD, D's step). The authors'
                Goodfellow et al. 2014 code minimises 0.5 * (real + fake) cross-entropy;
                1.0 is eq. 1 as printed and every later paper's convention.
            sample_mode: how G's BatchNorm layers run when sampling (``sample``,
                ``generate``, `generate`, `evaluate`, metric and image callbacks).
                ``eval``: running statistics, each sample depends on its z only (compare_gan,
                Lucic et al. 2018). ``batch_stats``: the statistics of the batch being
                generated, as the DCGAN (Radford et al. 2015) and WGAN / WGAN-GP reference
                code sample; running statistics are left untouched. A sample then depends
                on the other samples of its batch: that is the reference behaviour.
            sample_batch_size: with ``batch_stats``, G runs on groups of this many
                consecutive samples (the last group may be smaller); `generate` and
                `evaluate` group by sample index, so a seed gives the same samples at any
                --batch-size or process count. Ignored with ``eval``.
            compile: run G's and D's forward through torch.compile during fit (a GPU speed-up;
                a gradient penalty's critic stays eager). Checkpoints are the same either way.
        """
        super().__init__(n_critic=n_critic, n_gen=n_gen, grad_clip=grad_clip, compile=compile)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if sample_mode not in SAMPLE_MODES:
            raise ValueError(f"sample_mode must be one of {SAMPLE_MODES}, got {sample_mode!r}")
        if sample_batch_size < 1:
            raise ValueError(f"sample_batch_size must be >= 1, got {sample_batch_size}")
        if not d_loss_scale > 0:
            raise ValueError(f"d_loss_scale must be > 0, got {d_loss_scale} (Goodfellow et al. 2014's code: 0.5)")
        if noise not in ("uniform", "uniform_pm1", "normal"):
            raise ValueError(f"noise must be uniform, uniform_pm1 or normal, got {noise!r}")
        for name, lr in (("lr_g", lr_g), ("lr_d", lr_d)):
            problem = optimizer_problem(optimizer, lr, betas, momentum)
            if problem:
                raise ValueError(f"{optimizer} refuses {name}={lr}, betas={tuple(betas)}, momentum={momentum}: {problem}")
        # attributes, not hparams: WGAN's hparams hold only its own arguments
        self.d_loss_scale, self.sample_mode, self.sample_batch_size = d_loss_scale, sample_mode, sample_batch_size
        self.noise_name = noise
        self.save_hyperparameters()
        self.data_shape = tuple(data_shape)
        self.latent_dim = latent_dim
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
        self.generator, self.discriminator = self.build_nets(generator, discriminator, dict(generator_options or {}),
                                                             dict(discriminator_options or {}))

    num_classes: int | None = None  # unconditional; class-conditional models (models/conditional.py) set it

    def build_nets(self, generator: str, discriminator: str, generator_options: dict[str, Any],
                   discriminator_options: dict[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module]:
        """G and D by name (lit_gan.nets); conditional models build label-taking nets instead."""
        return (build_generator(generator, self.latent_dim, self.data_shape, generator_options),
                build_discriminator(discriminator, self.data_shape, discriminator_options))

    # ---- sampling protocol used by callbacks and commands ---------------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z for n samples, on this module's device.

        With a ``generator`` the draw happens on the generator's device and is then moved,
        so a seeded CPU generator gives the same z whether the model is on CPU or GPU.
        """
        device = generator.device if generator is not None else self.device
        if self.noise_name == "uniform":
            z = (torch.rand(n, self.latent_dim, device=device, generator=generator) * 2 - 1) * 3**0.5
        elif self.noise_name == "uniform_pm1":
            z = torch.rand(n, self.latent_dim, device=device, generator=generator) * 2 - 1
        else:
            z = torch.randn(n, self.latent_dim, device=device, generator=generator)
        return z.to(self.device)

    @property
    def sample_group(self) -> int | None:
        """Samples that share BatchNorm statistics (``batch_stats``), else None."""
        return self.sample_batch_size if self.sample_mode == "batch_stats" else None

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) in inference mode, restoring the mode after. With ``sample_mode:
        batch_stats`` BatchNorm uses the statistics of each run of ``sample_batch_size``
        rows of z (from its first row), so the result depends on z's batch."""
        if labels is not None:
            raise ValueError(f"{type(self).__name__} is unconditional: it takes no labels")
        return self.run_generator(lambda rows: self.generator(z[rows].to(self.device)), len(z))

    def run_generator(self, forward, n: int) -> Tensor:
        """``forward(rows)`` (a slice of the n inputs) in G's sampling mode (``sample_mode``),
        restoring G's training flag after: the one place that mode is applied."""
        if self.sample_mode == "batch_stats":
            with batch_statistics(self.generator):
                step = self.sample_batch_size
                return torch.cat([forward(slice(start, start + step)) for start in range(0, n, step)])
        was_training = self.generator.training
        self.generator.eval()
        try:
            return forward(slice(0, n))
        finally:
            self.generator.train(was_training)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples: images in [-1, 1] (n, C, H, W) or points (n, 2)."""
        return self.generate(self.noise(n, generator))

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

    def generator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        fake = self.generator(self.noise(real_images(batch).shape[0]))
        return self.objective.generator(self.discriminator(fake)), {}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """D's loss on held-out real data vs fresh fakes: a rising value means D overfits."""
        real = self.whole_packs(real_images(batch))
        if real is None:
            return
        g = torch.Generator().manual_seed(batch_idx)  # leaves the global RNG stream alone
        real_logits, fake_logits = self.discriminator(real), self.discriminator(self.sample(real.shape[0], g))
        loss = self.d_loss_scale * self.objective.discriminator(real_logits, fake_logits)
        prefix = "test" if self.trainer.testing else "val"
        self.log(f"{prefix}/loss_d", loss, sync_dist=True)
        self.log(f"{prefix}/d_real", self.mean_output(real_logits), sync_dist=True)

    test_step = validation_step

    def whole_packs(self, real: Tensor) -> Tensor | None:
        """A held-out batch cut to a multiple of D's pack; None when not one pack is left (the
        split's last batch can be shorter than a pack: it is skipped, the others are scored)."""
        pack = pack_of(self.discriminator)
        return real[: len(real) // pack * pack] if len(real) >= pack else None

    def on_fit_start(self) -> None:
        super().on_fit_start()
        pack = pack_of(self.discriminator)
        batch_size = getattr(getattr(self.trainer, "datamodule", None), "hparams", {}).get("batch_size")
        if pack > 1 and isinstance(batch_size, int) and batch_size % pack:
            raise ValueError(f"the discriminator packs {pack} samples per decision (discriminator_options.pack) "
                             f"but data.init_args.batch_size is {batch_size}, not a multiple of {pack}; "
                             f"set it to {batch_size // pack * pack or pack}")

    # ---- optimisation ---------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = build_optimizer(self.generator.parameters(), hp.optimizer, hp.lr_g, hp.betas, hp.momentum)
        opt_d = build_optimizer(self.discriminator.parameters(), hp.optimizer, hp.lr_d, hp.betas, hp.momentum)
        schedules = [build_schedule(o, hp.lr_schedule, hp.lr_decay, hp.min_lr, hp.constant_epochs, hp.decay_epochs) for o in (opt_g, opt_d)]
        schedules = [s for s in schedules if s is not None]
        return [opt_g, opt_d], schedules

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
        latent_dim: int = 100,
        noise: NoiseName = "normal",
        generator: Literal["mlp", "dcgan"] = "dcgan",
        discriminator: Literal["mlp", "maxout", "dcgan"] = "dcgan",
        generator_options: dict[str, Any] | None = None,
        discriminator_options: dict[str, Any] | None = None,
        loss: str = "non_saturating",
        label_smoothing: float = 0.0,
        optimizer: OptimizerName = "adam",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        momentum: float = 0.0,
        final_momentum: float | None = None,
        momentum_ramp_epochs: int = 0,
        lr_schedule: ScheduleName = "constant",
        lr_decay: float = 1.0,
        min_lr: float = 0.0,
        constant_epochs: int = 100,
        decay_epochs: int = 100,
        n_critic: int = 1,
        n_gen: int = 1,
        grad_clip: float | None = None,
        d_loss_scale: float = 1.0,
        sample_mode: SampleMode = "eval",
        sample_batch_size: int = 64,
        compile: bool = False,
    ) -> None:
        kwargs = dict(locals())
        kwargs.pop("self"), kwargs.pop("__class__")
        super().__init__(**kwargs)
