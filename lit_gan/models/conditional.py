"""Class-conditional GANs: G(z, y) and a D that knows y. One family, four paper setups.

- :class:`CGAN`: Mirza & Osindero 2014, MLP nets (lit_gan.nets.conditional_mlp), SGD.
- :class:`ConditionalDCGAN`: DCGAN (Radford et al. 2015) with the label concatenated to the
  inputs of both nets (lit_gan.nets.conditional_dcgan).
- :class:`ACGAN`: Odena et al. 2017, D predicts the class (lit_gan.models.acgan).
- :class:`ProjectionGAN`: Miyato & Koyama 2018, projection D, conditional-BN G
  (lit_gan.models.projection_gan).

Labels come from the batch ``(x, y)``; a batch without labels is refused. G's labels during
training are drawn uniformly at random, c ~ p_c (Odena et al. 2017, sec. 3; the projection
reference code's ``sample_categorical``). Any objective of lit_gan.losses applies to D's
adversarial output; ``gp_weight`` adds the gradient penalty of Gulrajani et al. 2017,
evaluated with the real sample's label: ``x_hat -> D(x_hat, y_real)``.

Sampling protocol: ``num_classes``; ``noise(n, generator)``; ``generate(z, labels)`` (labels
required: class indices, a LongTensor (N,) in [0, num_classes), or class weights, a float
(N, num_classes) with rows >= 0 summing to 1, which every conditional G reads as a mix of the
classes (lit_gan.nets.label_input); one-hot weights give exactly the class's sample);
``sample(n, generator, labels)`` (labels default to ``arange(n) % num_classes``); ``sample_group``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_gan.losses.gradient_penalty import gradient_penalty, refuse_batch_norm, refuse_float16
from lit_gan.models.arguments import own_arguments
from lit_gan.models.gan import GAN
from lit_gan.models.noise_gan import NoiseName
from lit_gan.models.optim import OptimizerName, ScheduleName
from lit_gan.nets.conditional import ACGAN_DISCRIMINATORS, DISCRIMINATORS, GENERATORS, build_conditional_nets

ConditionalGeneratorName = GENERATORS.names()
ConditionalDiscriminatorName = DISCRIMINATORS.names()


class ConditionalGAN(GAN):
    """GAN with labels; the defaults are Mirza & Osindero 2014's MNIST setup (see :class:`CGAN`)."""

    discriminator_names = DISCRIMINATORS

    def __init__(
        self,
        num_classes: int,
        generator: ConditionalGeneratorName = "mlp",
        discriminator: ConditionalDiscriminatorName = "maxout",
        gp_weight: float = 0.0,
        lr_decay: float = 1.00004,  # Mirza & Osindero 2014, sec. 4.1: "decay factor of 1.00004"
        **kwargs: Any,
    ) -> None:
        """
        Args:
            num_classes: K, labels are 0..K-1; linked from the datamodule by the CLI.
            generator: ``mlp`` (Mirza & Osindero), ``dcgan`` (embedding(y) concatenated to
                z), ``dcgan_cbn`` (conditional BatchNorm, Miyato & Koyama).
            discriminator: ``maxout`` (Mirza & Osindero), ``dcgan`` (one-hot maps
                concatenated to the image), ``projection`` (Miyato & Koyama); ``acgan``
                only in :class:`ACGAN`.
            gp_weight: lambda of the gradient penalty (0: none; Gulrajani et al. 2017: 10).
                Needed by ``loss: wasserstein``; refused with BatchNorm in D.
            lr_decay: Mirza & Osindero 2014, sec. 4.1 (the lr is divided by it each
                iteration, down to min_lr = 1e-6).
            The rest: as lit_gan.models.gan.GAN, whose defaults are this paper's too (sec. 4.1:
                z of 100 dimensions, uniform; SGD lr 0.1; momentum 0.5 rising to 0.7, over
                Goodfellow et al. 2014's 250 epochs, which the paper does not give).
        """
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}; the CLI links it from "
                             "the datamodule's num_classes (e.g. MNISTDataModule: 10)")
        if gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight} (Gulrajani et al. 2017 use 10)")
        self.num_classes, self.gp_weight = num_classes, gp_weight  # build_nets (called by NoiseGAN) reads num_classes
        super().__init__(generator=generator, discriminator=discriminator, lr_decay=lr_decay, **kwargs)
        if self.hparams.loss == "wasserstein" and gp_weight == 0:
            raise ValueError("loss 'wasserstein' needs a Lipschitz critic, else its scores grow without bound: "
                             "set gp_weight: 10 (Gulrajani et al. 2017) or choose another loss")
        if gp_weight > 0:
            refuse_batch_norm(type(self).__name__, self.discriminator, discriminator)

    def build_nets(self, generator: str, discriminator: str, generator_options: dict[str, Any],
                   discriminator_options: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
        if discriminator not in self.discriminator_names:
            hint = " (an AC-GAN discriminator: use lit_gan.models.ACGAN)" if discriminator in ACGAN_DISCRIMINATORS else ""
            raise ValueError(f"{type(self).__name__} takes discriminator one of {tuple(self.discriminator_names)}, "
                             f"got {discriminator!r}{hint}")
        return build_conditional_nets(generator, discriminator, self.latent_dim, self.num_classes, self.data_shape,
                                      generator_options, discriminator_options)

    def double_backward_nets(self) -> tuple[str, ...]:
        return ("discriminator",) if self.gp_weight > 0 else super().double_backward_nets()

    def r1_terms(self, batch: Any) -> list[tuple[Any, Tensor, int]]:
        """R1 on the real images with their own labels: ``x -> D(x, y_real)``."""
        real, labels = self.labelled(batch)
        return [(lambda x: self.critic(x, labels)[0], real, 1)]

    # ---- labels -------------------------------------------------------------------
    def labelled(self, batch: Any) -> tuple[Tensor, Tensor]:
        """``(x, y)`` from a batch, or a one-line error saying the data has no labels."""
        if isinstance(batch, (tuple, list)) and len(batch) >= 2 and isinstance(batch[1], Tensor) \
                and batch[1].dim() == 1 and not batch[1].is_floating_point():
            return batch[0], batch[1].long()  # int64 for one_hot (a no-op for int64 labels)
        got = type(batch).__name__ if not isinstance(batch, (tuple, list)) else f"a {len(batch)}-item {type(batch).__name__}"
        raise ValueError(f"{type(self).__name__} is class-conditional but the datamodule yields no labels (got {got} "
                         "per batch, not (images, int64 labels)): use a labelled datamodule, e.g. "
                         "lit_gan.data.MNISTDataModule")

    def check_labels(self, labels: Tensor | None, n: int) -> Tensor:
        """labels on this module's device, or a ValueError saying why not: integer class indices
        (n,) in [0, K) -> LongTensor; float class weights (n, K), each row >= 0 and summing
        to 1 (one-hot = the class, a mix = between classes) -> as given."""
        name, k = type(self).__name__, self.num_classes
        if labels is None:
            raise ValueError(f"{name} is conditional: pass labels, a LongTensor of {n} class indices in [0, {k})")
        labels = torch.as_tensor(labels)  # cpu: a list or array given; a tensor keeps its device
        if labels.is_complex() or labels.dtype == torch.bool:
            raise ValueError(f"{name}: labels must be integer class indices, got dtype {labels.dtype}")
        if labels.is_floating_point():
            return self._check_class_weights(labels, n)
        if labels.shape != (n,):
            raise ValueError(f"{name}: labels must have shape ({n},), one per sample; got {tuple(labels.shape)}")
        outside = labels[(labels < 0) | (labels >= k)]
        if len(outside):
            raise ValueError(f"{name}: labels must be in [0, {k}) (num_classes={k}); got {outside[0].item()}")
        return labels.to(self.device, torch.long)

    def _check_class_weights(self, weights: Tensor, n: int) -> Tensor:
        name, k = type(self).__name__, self.num_classes
        if weights.shape != (n, k):
            raise ValueError(f"{name}: labels must be integer class indices of shape ({n},) or float class weights of "
                             f"shape ({n}, {k}) (num_classes={k}); got dtype {weights.dtype}, shape {tuple(weights.shape)}")
        w = weights.detach().float()  # float32: MPS has no float64; 1e-4 is far above its rounding
        bad = ~torch.isfinite(w).all(1) | (w < 0).any(1) | ((w.sum(1) - 1).abs() > 1e-4)
        if bad.any():
            row = int(bad.nonzero()[0])
            raise ValueError(f"{name}: class weights must be >= 0 with each row summing to 1; row {row} is "
                             f"{weights[row].tolist()} (sum {float(w[row].sum()):.6g})")
        return weights.to(self.device)

    def random_labels(self, n: int) -> Tensor:
        """c ~ p_c, uniform over the classes (Odena et al. 2017, sec. 3)."""
        return torch.randint(self.num_classes, (n,), device=self.device)

    # ---- sampling protocol ----------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z, labels) in G's sampling mode (``sample_mode``), as GAN.generate; labels as
        class indices (N,) or class weights (N, K) (see ``check_labels``)."""
        labels = self.check_labels(labels, len(z))
        z = z.to(self.device)
        return self.run_generator(lambda net, rows: net(z[rows], labels[rows]), len(z))

    def sample(self, n: int, generator: torch.Generator | None = None, labels: Tensor | None = None) -> Tensor:
        """n samples; labels default to 0, 1, ..., K-1, 0, 1, ... (every class in turn)."""
        if labels is None:
            labels = torch.arange(n, device=self.device) % self.num_classes
        return self.generate(self.noise(n, generator), labels)

    # ---- losses -------------------------------------------------------------------
    def critic(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """D's adversarial output (N,) and class logits (N, K) (None: D has no class head)."""
        return self.discriminator(x, y), None

    def real_class_logits(self, cls: Tensor) -> Tensor:
        """(N, K) logits of the classifier that learns the real data, from D's class output."""
        return cls

    def class_loss_d(self, real_cls, labels, fake_cls, fake_labels, logs: dict) -> Tensor | float:
        return 0.0  # AC-GAN's L_C; none here

    def class_loss_g(self, fake_cls, fake_labels, logs: dict) -> Tensor | float:
        return 0.0

    def discriminator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        real, labels = self.labelled(batch)
        if self.batches_seen == 0:
            self.check_labels(labels, len(labels))  # once: a bad label would fail deep in an embedding
        n = real.shape[0]
        with torch.no_grad():
            fake_labels = self.random_labels(n)
            fake = self.generator(self.noise(n), fake_labels)
        (real_out, real_cls), (fake_out, fake_cls) = self.critic(real, labels), self.critic(fake, fake_labels)
        logs = {"train/d_real": self.mean_output(real_out), "train/d_fake": self.mean_output(fake_out)}
        loss = self.objective.discriminator(real_out, fake_out, 1.0 - self.hparams.label_smoothing)
        loss = self.d_loss_scale * (loss + self.class_loss_d(real_cls, labels, fake_cls, fake_labels, logs))
        if self.gp_weight > 0:
            penalty = gradient_penalty(lambda x: self.critic(x, labels)[0], real, fake, self.gp_weight)
            loss = loss + penalty
            logs["train/gradient_penalty"] = penalty
        return loss, logs

    def generator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        n = self.labelled(batch)[0].shape[0]
        fake_labels = self.random_labels(n)
        fake_out, fake_cls = self.critic(self.generator(self.noise(n), fake_labels), fake_labels)
        logs: dict[str, Tensor] = {}
        return self.objective.generator(fake_out) + self.class_loss_g(fake_cls, fake_labels, logs), logs

    def validation_scores(self, batch: Any, batch_idx: int) -> dict[str, Tensor]:
        """D's loss on held-out (x, y) vs fresh fakes of the same labels (AC-GAN: and its accuracy)."""
        real, labels = self.labelled(batch)
        g = torch.Generator().manual_seed(batch_idx)  # leaves the global RNG stream alone
        fake = self.sample(real.shape[0], g, labels=labels)
        (real_out, real_cls), (fake_out, _) = self.critic(real, labels), self.critic(fake, labels)
        scores = self.held_out_scores(real_out, fake_out)
        if real_cls is not None:
            scores["class_accuracy_real"] = (self.real_class_logits(real_cls).argmax(dim=1) == labels).float().mean()
        return scores

    def on_fit_start(self) -> None:
        super().on_fit_start()
        if self.gp_weight > 0:
            refuse_float16(self.trainer.precision)


class CGAN(ConditionalGAN):
    """Mirza & Osindero 2014, sec. 4.1 (MNIST): the defaults of :class:`ConditionalGAN`.

    G: z (100) -> 200 ReLU, one-hot y -> 1000 ReLU, concat -> 1200 ReLU -> 784; D: maxout
    240x5 on x, 50x5 on y, joint 240x4 -> logit; dropout 0.5 in both; SGD lr 0.1, divided
    by 1.00004 per iteration down to 1e-6, momentum 0.5 -> 0.7; batch 100 (the datamodule's).
    Differences: the paper's z is uniform on the unit hypercube [0, 1]^100; ``uniform`` here
    is U(-sqrt 3, sqrt 3) (Goodfellow et al.'s code), an affine change that G's first layer
    absorbs. The paper does not say over how many epochs momentum rises: 250 is Goodfellow
    et al. 2014's mnist.yaml. G's output is tanh, not sigmoid (data in [-1, 1]).
    """


class ConditionalDCGAN(ConditionalGAN):
    """Radford et al. 2015's DCGAN with labels in: Adam(2e-4, beta1 0.5), z ~ N(0, I), N(0, 0.02) init.

    G reads concat(z, embedding(y)); D reads the image with K one-hot maps of y as extra
    channels (lit_gan.nets.conditional_dcgan). No paper fixes this pair; the optimiser and
    noise are DCGAN's (sec. 4).
    """

    def __init__(
        self,
        noise: NoiseName = "normal",
        generator: ConditionalGeneratorName = "dcgan",
        discriminator: ConditionalDiscriminatorName = "dcgan",
        optimizer: OptimizerName = "adam",  # Radford et al. 2015, sec. 4: Adam lr 0.0002, beta1 0.5
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        momentum: float = 0.0,
        final_momentum: float | None = None,
        lr_schedule: ScheduleName = "constant",
        **kwargs: Any,
    ) -> None:
        super().__init__(**own_arguments(locals()), **kwargs)
