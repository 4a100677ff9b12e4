"""What every noise-to-sample model shares (GAN, DCGAN, WGAN, WGAN-GP, the conditional ones):
G(z) and D(x) by name from lit_gan.nets, the sampling protocol, optimizers, and the held-out
scores of the validation template.

The arguments here are the ones all those models take; each model's ``__init__`` lists only its
own arguments and the defaults it changes, and forwards the rest (``**kwargs``). LightningCLI
(jsonargparse) follows ``super().__init__(..., **kwargs)``, so ``--help`` and ``--print_config``
still show every argument with the model's default, under its flat name
(``model.init_args.lr_g``), as saved configs name it.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import torch
from torch import Tensor

from lit_gan.losses import Objective
from lit_gan.models.adversarial import AdversarialModel
from lit_gan.models.batch_stats import SAMPLE_MODES, SampleMode, batch_statistics
from lit_gan.models.optim import OptimizerName, build_optimizer, optimizer_problem
from lit_gan.nets import GENERATORS, DISCRIMINATORS, build_discriminator, build_generator
from lit_gan.nets.remedies import pack_of

NoiseName = Literal["uniform", "uniform_pm1", "normal"]
GeneratorName = GENERATORS.names()
DiscriminatorName = DISCRIMINATORS.names()


def real_images(batch: Any) -> Tensor:
    """Datamodules yield ``(x, label)``; unconditional models only need ``x``."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class NoiseGAN(AdversarialModel):
    """G: z -> sample, D: sample -> score. Subclasses set ``objective`` (lit_gan.losses) and give
    D's loss (``discriminator_loss``) and the held-out scores (``held_out_scores``)."""

    num_classes: int | None = None  # unconditional; class-conditional models (models/conditional.py) set it
    objective: Objective

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 64, 64),
        latent_dim: int = 100,
        noise: NoiseName = "normal",
        generator: GeneratorName = "dcgan",
        discriminator: DiscriminatorName = "dcgan",
        generator_options: dict[str, Any] | None = None,
        discriminator_options: dict[str, Any] | None = None,
        optimizer: OptimizerName = "adam",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        n_gen: int = 1,
        grad_clip: float | None = None,
        sample_mode: SampleMode = "eval",
        sample_batch_size: int = 64,
        compile: bool = False,
        **kwargs: Any,
    ) -> None:
        """
        Args:
            data_shape: one sample's shape, (C, H, W) or (2,); linked from the datamodule.
            latent_dim: the dimension of z.
            noise: distribution of z: ``uniform`` is U(-sqrt 3, sqrt 3) (unit variance, the
                Goodfellow et al. 2014 code), ``uniform_pm1`` is U(-1, 1) (compare_gan,
                Lucic et al. 2018), ``normal`` is N(0, I).
            generator, discriminator: net names (lit_gan.nets); their constructor options in
                ``generator_options`` / ``discriminator_options``.
            optimizer, lr_g, lr_d, betas: the optimizer of both nets (betas: Adam's).
            n_critic, n_gen: D updates per G update, G updates per iteration.
            grad_clip: clip each net's gradient norm to this (null: no clipping).
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
            The rest: the stabilizers of lit_gan.models.adversarial.AdversarialModel
                (spectral_norm, r1_gamma, r1_interval, augment, ema_half_life_images, ema_rampup).
        """
        super().__init__(n_critic=n_critic, n_gen=n_gen, grad_clip=grad_clip, compile=compile, **kwargs)
        if sample_mode not in SAMPLE_MODES:
            raise ValueError(f"sample_mode must be one of {SAMPLE_MODES}, got {sample_mode!r}")
        if sample_batch_size < 1:
            raise ValueError(f"sample_batch_size must be >= 1, got {sample_batch_size}")
        if noise not in ("uniform", "uniform_pm1", "normal"):
            raise ValueError(f"noise must be uniform, uniform_pm1 or normal, got {noise!r}")
        for name, lr in (("lr_g", lr_g), ("lr_d", lr_d)):
            problem = optimizer_problem(optimizer, lr, betas, **self.optimizer_options())
            if problem:
                settings = ", ".join(f"{k}={v}" for k, v in {"betas": tuple(betas), **self.optimizer_options()}.items())
                raise ValueError(f"{optimizer} refuses {name}={lr}, {settings}: {problem}")
        # attributes, not hparams: under LightningCLI hparams hold exactly the model's own arguments
        self.sample_mode, self.sample_batch_size, self.noise_name = sample_mode, sample_batch_size, noise
        self.save_hyperparameters()
        self.data_shape = tuple(data_shape)
        self.latent_dim = latent_dim
        defaults = self.discriminator_defaults(discriminator)
        if defaults:
            discriminator_options = {**defaults, **(discriminator_options or {})}
            self.hparams["discriminator_options"] = discriminator_options  # the options in use, also under LightningCLI
        self.generator, self.discriminator = self.build_nets(generator, discriminator, dict(generator_options or {}),
                                                             dict(discriminator_options or {}))
        self.stabilize_nets()

    # ---- hooks ----------------------------------------------------------------------
    def optimizer_options(self) -> dict[str, Any]:
        """Settings of ``build_optimizer`` besides name, lr and betas (GAN: its momentum)."""
        return {}

    def discriminator_defaults(self, discriminator: str) -> dict[str, Any]:
        """Options a model gives the discriminator ``discriminator`` unless the config sets them."""
        return {}

    def build_nets(self, generator: str, discriminator: str, generator_options: dict[str, Any],
                   discriminator_options: dict[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module]:
        """G and D by name (lit_gan.nets); conditional models build label-taking nets instead."""
        return (build_generator(generator, self.latent_dim, self.data_shape, generator_options),
                build_discriminator(discriminator, self.data_shape, discriminator_options))

    def generator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """G's side of the objective on as many fakes as the batch has real samples."""
        fake = self.generator(self.noise(real_images(batch).shape[0]))
        return self.objective.generator(self.discriminator(fake)), {}

    def r1_terms(self, batch: Any) -> list[tuple[Any, Tensor, int]]:
        return [(self.discriminator, real_images(batch), pack_of(self.discriminator))]

    def held_out_scores(self, real_out: Tensor, fake_out: Tensor) -> dict[str, Tensor]:
        """What validation logs from D's outputs on held-out real data and fresh fakes."""
        raise NotImplementedError

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
        return self.run_generator(lambda net, rows: net(z[rows].to(self.device)), len(z))

    def run_generator(self, forward, n: int) -> Tensor:
        """``forward(net, rows)`` (G to sample with: its average when there is one and ``use_ema``;
        a slice of the n inputs) in G's sampling mode (``sample_mode``), restoring G's training
        flag after: the one place that mode is applied."""
        net = self.for_sampling(self.generator)
        if self.sample_mode == "batch_stats":
            with batch_statistics(net):
                step = self.sample_batch_size
                return torch.cat([forward(net, slice(start, start + step)) for start in range(0, n, step)])
        was_training = net.training
        net.eval()
        try:
            return forward(net, slice(0, n))
        finally:
            net.train(was_training)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples: images in [-1, 1] (n, C, H, W) or points (n, 2)."""
        return self.generate(self.noise(n, generator))

    # ---- held-out data --------------------------------------------------------------
    def validation_scores(self, batch: Any, batch_idx: int) -> dict[str, Tensor]:
        """D on held-out real data vs as many fresh fakes (a rising D loss means D overfits)."""
        real = self.whole_packs(real_images(batch))
        if real is None:
            return {}
        g = torch.Generator().manual_seed(batch_idx)  # leaves the global RNG stream alone
        return self.held_out_scores(self.discriminator(real), self.discriminator(self.sample(real.shape[0], g)))

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
        return [self.make_optimizer(self.generator, hp.lr_g), self.make_optimizer(self.discriminator, hp.lr_d)]

    def make_optimizer(self, net: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        hp = self.hparams
        return build_optimizer(net.parameters(), hp.optimizer, lr, hp.betas, **self.optimizer_options())
