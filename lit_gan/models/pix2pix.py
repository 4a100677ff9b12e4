"""pix2pix (Isola et al. 2017): a conditional GAN plus L1 for paired image translation.

Objective (eq. 4): G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G), lambda = 100, where
D sees concat(input, image) (a "conditional" PatchGAN). Sec. 3.3: D's loss is halved
("divide the objective by 2 while optimizing D"), G takes the non-saturating loss, Adam
lr 2e-4, beta1 0.5, batch 1. Table 1's ablations are the ``objective`` switch:
``l1+cgan`` (the paper), ``cgan``, ``l1``, and ``l1+gan`` (an unconditional D that sees the
image only). With ``l1`` D still trains but G ignores it.

Batches are lit_gan.data.paired items ``(target, input, name)``: the datamodule applies the
direction, so the model only knows "input" and "target" (``direction`` is recorded here
for `translate` and checked against the datamodule's at fit start).
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gan.losses import get_objective
from lit_gan.models.optim import optimizer_problem
from lit_gan.models.paired_scores import translation_scores, update_translation_scores
from lit_gan.models.translation import (DIRECTIONS, PatchDiscriminatorName, TranslationModel, TranslatorName,
                                        check_betas)
from lit_gan.nets import build_patch_discriminator, build_translator

Pix2PixObjective = Literal["l1+cgan", "cgan", "l1", "l1+gan"]


class Pix2Pix(TranslationModel):
    def __init__(
        self,
        data_shape: Sequence[int] = (3, 256, 256),
        input_channels: int = 3,
        direction: Literal["AtoB", "BtoA"] = "BtoA",
        generator: TranslatorName = "unet",
        generator_options: dict[str, Any] | None = None,
        discriminator: PatchDiscriminatorName = "patchgan",
        discriminator_options: dict[str, Any] | None = None,
        objective: Pix2PixObjective = "l1+cgan",
        lambda_l1: float = 100.0,  # Isola et al. 2017, eq. 4 / sec. 4
        lr: float = 2e-4,  # sec. 3.3: Adam lr 2e-4, beta1 0.5
        betas: Sequence[float] = (0.5, 0.999),
        constant_epochs: int = 100,  # PyTorch reference: 100 epochs constant + 100 decaying to 0
        decay_epochs: int = 100,
        inference: Literal["paper", "eval"] = "paper",
        compile: bool = False,  # nets' forward through torch.compile during fit (lit_gan.models.compile)
        **kwargs: Any,  # the stabilizers of lit_gan.models.adversarial.AdversarialModel
    ) -> None:
        super().__init__(compile=compile, **kwargs)
        if objective not in ("l1+cgan", "cgan", "l1", "l1+gan"):
            raise ValueError(f"objective must be l1+cgan, cgan, l1 or l1+gan, got {objective!r}")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be AtoB or BtoA, got {direction!r}")
        if inference not in ("paper", "eval"):
            raise ValueError("inference must be 'paper' (dropout and batch statistics at test time) or 'eval'")
        problem = optimizer_problem("adam", lr, check_betas(betas))
        if problem:
            raise ValueError(f"adam refuses lr={lr}, betas={tuple(betas)}: {problem}")
        self.save_hyperparameters()
        channels, size = data_shape[0], data_shape[-1]
        self.directions = (direction,)
        self.generator = build_translator(generator, input_channels, channels, size, generator_options or {})
        conditional = objective != "l1+gan"
        d_in = input_channels + channels if conditional else channels
        self.discriminator = build_patch_discriminator(discriminator, d_in, discriminator_options or {})
        self.stabilize_nets()
        self.gan_loss = get_objective("non_saturating")
        self.scores = translation_scores()  # val / test: L1, PSNR, SSIM (lit_gan.models.paired_scores)

    # ---- the protocol ---------------------------------------------------------------
    def generator_for(self, direction: str) -> nn.Module:
        return self.generator

    def generator_parameters(self):
        return self.generator.parameters()

    def discriminator_parameters(self):
        return self.discriminator.parameters()

    def on_fit_start(self) -> None:
        super().on_fit_start()
        data_direction = getattr(self.trainer.datamodule, "direction", None)
        if data_direction is not None and data_direction != self.hparams.direction:
            raise ValueError(f"the data runs {data_direction} but the model was told {self.hparams.direction}: "
                             "set model.init_args.direction to the datamodule's direction")

    # ---- losses -----------------------------------------------------------------------
    def _d_input(self, source: Tensor, image: Tensor) -> Tensor:
        return image if self.hparams.objective == "l1+gan" else torch.cat([source, image], dim=1)

    def augment_discriminator_input(self, x: Tensor) -> Tensor:
        """A conditional D's input is concat(condition, image): both augmented with the same draws."""
        if self.hparams.objective == "l1+gan":
            return self.augmentation(x)
        split = self.hparams.input_channels
        return torch.cat(self.augmentation(x[:, :split], x[:, split:]), dim=1)

    def r1_terms(self, batch: Any) -> list[tuple[Any, Tensor, int]]:
        """R1 on the real target image, its condition held fixed: ``y -> D(x, y)``."""
        target, source = batch[0], batch[1]
        return [(lambda image: self.discriminator(self._d_input(source, image)), target, 1)]

    def discriminator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        target, source = batch[0], batch[1]
        with torch.no_grad():
            fake = self.generator(source)
        real_logits = self.discriminator(self._d_input(source, target))
        fake_logits = self.discriminator(self._d_input(source, fake))
        loss = 0.5 * self.gan_loss.discriminator(real_logits, fake_logits)  # sec. 3.3: D's objective halved
        return loss, {"train/d_real": torch.sigmoid(real_logits).mean(), "train/d_fake": torch.sigmoid(fake_logits).mean()}

    def generator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        target, source = batch[0], batch[1]
        fake = self.generator(source)
        l1 = F.l1_loss(fake, target)
        objective = self.hparams.objective
        loss = torch.zeros((), device=self.device)
        logs = {"train/l1": l1}
        if objective != "l1":
            gan = self.gan_loss.generator(self.discriminator(self._d_input(source, fake)))
            loss = loss + gan
            logs["train/loss_g_gan"] = gan
        if objective != "cgan":
            loss = loss + self.hparams.lambda_l1 * l1
        return loss, logs

    def preview(self, batch: Any) -> list[Tensor]:
        """Columns of the sample grid: input | translation | target."""
        target, source = batch[0].to(self.device), batch[1].to(self.device)
        return [source, self.translate(source), target]

    # ---- paired quality on val / test ---------------------------------------------------
    def paired_scores(self):
        """Fresh metrics of ``update_paired`` (``evaluate --metrics paired`` builds its own)."""
        return translation_scores()

    def update_paired(self, scores, inputs: Tensor, translations: Tensor, partners: Tensor, direction: str) -> None:
        """Translations of ``inputs`` scored against ``partners``, their targets."""
        update_translation_scores(scores, translations, partners)

    def validation_scores(self, batch: Any, batch_idx: int) -> dict[str, Any]:
        target, source = batch[0], batch[1]
        self.update_paired(self.scores, source, self.translate(source), target, self.hparams.direction)
        return dict(self.scores.items())
