"""CycleGAN (Zhu et al. 2017): unpaired translation with cycle consistency.

Code <-> paper names:  ``G_AB`` = G : X -> Y,  ``G_BA`` = F : Y -> X,
``D_B`` = D_Y (real B vs G_AB(A)),  ``D_A`` = D_X (real A vs G_BA(B)).

Objective (eq. 3 + sec. 5.2 / 7.1): least-squares GAN losses (Mao et al. 2017): G
minimises (D(G(x)) - 1)^2, D minimises (D(y) - 1)^2 + D(G(x))^2, halved ("divide the
objective by 2 while optimizing D"); cycle L1 with lambda = 10 both ways; identity loss
||G_AB(b) - b||_1 + ||G_BA(a) - a||_1 weighted 0.5 * lambda (sec. 5.2, used for
painting <-> photo; ``lambda_identity: 0`` disables it). Table 4's ablations are the
``objective`` switch: ``cyclegan`` (the paper), ``cycle`` (cycle losses alone: D trains, G
ignores it), ``gan`` (no cycle), ``gan+forward`` (GAN + the forward cycle A -> B -> A only,
x -> G(x) -> F(G(x)) ~ x) and ``gan+backward`` (GAN + B -> A -> B only). D learns from a history of the
50 latest generated images (lit_gan.models.image_pool), saved in checkpoints. Adam 2e-4,
beta1 0.5, batch 1, 100 epochs constant + 100 decaying linearly to 0.

Batches are lit_gan.data.unpaired items: an A image and a B image (``batch[0]``,
``batch[1]``, or keys "A" / "B").
"""

from __future__ import annotations

from typing import Any, Literal, Sequence, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gan import distributed
from lit_gan.models.image_pool import POOL_SIZE, ImagePool
from lit_gan.models.optim import optimizer_problem
from lit_gan.models.paired_scores import cycle_scores
from lit_gan.models.translation import PatchDiscriminatorName, TranslationModel, TranslatorName, check_betas
from lit_gan.nets import build_patch_discriminator, build_translator


def domains(batch: Any) -> tuple[Tensor, Tensor]:
    if isinstance(batch, dict):
        return batch["A"], batch["B"]
    return batch[0], batch[1]


def lsgan_d(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """0.5 [(D(real) - 1)^2 + D(fake)^2], each averaged over the patch map."""
    return 0.5 * (F.mse_loss(real_logits, torch.ones_like(real_logits)) + F.mse_loss(fake_logits, torch.zeros_like(fake_logits)))


def lsgan_g(fake_logits: Tensor) -> Tensor:
    return F.mse_loss(fake_logits, torch.ones_like(fake_logits))


CycleGANObjective = Literal["cyclegan", "cycle", "gan", "gan+forward", "gan+backward"]
OBJECTIVES = get_args(CycleGANObjective)  # one list: the type the CLI checks is the one __init__ checks


class CycleGAN(TranslationModel):
    def __init__(
        self,
        data_shape: Sequence[int] = (3, 256, 256),
        channels_a: int = 3,
        generator: TranslatorName = "resnet",  # Zhu et al. 2017, sec. 4 / 7.2: 9 blocks at 256, 6 at 128
        generator_options: dict[str, Any] | None = None,
        discriminator: PatchDiscriminatorName = "patchgan",  # 70x70 PatchGAN
        discriminator_options: dict[str, Any] | None = None,
        lambda_cycle: float = 10.0,  # sec. 7.1
        lambda_identity: float = 0.5,  # times lambda_cycle (sec. 5.2); 0 disables
        pool_size: int = POOL_SIZE,
        lr: float = 2e-4,
        betas: Sequence[float] = (0.5, 0.999),
        constant_epochs: int = 100,
        decay_epochs: int = 100,
        inference: Literal["paper", "eval"] = "eval",
        objective: CycleGANObjective = "cyclegan",
        compile: bool = False,  # nets' forward through torch.compile during fit (lit_gan.models.compile)
        **kwargs: Any,  # the stabilizers of lit_gan.models.adversarial.AdversarialModel (one per G / D)
    ) -> None:
        super().__init__(compile=compile, **kwargs)
        problem = optimizer_problem("adam", lr, check_betas(betas))
        if problem:
            raise ValueError(f"adam refuses lr={lr}, betas={tuple(betas)}: {problem}")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)} (Zhu et al. 2017, Table 4), "
                             f"got {objective!r}")
        if lambda_cycle < 0 or lambda_identity < 0:
            raise ValueError("lambda_cycle and lambda_identity must be >= 0")
        self.save_hyperparameters()
        channels_b, size = data_shape[0], data_shape[-1]
        if lambda_identity > 0 and channels_a != channels_b:
            raise ValueError("the identity loss feeds B images to G_AB, so it needs channels_a == channels_b; "
                             "set lambda_identity: 0")
        g_opts = {"norm": "instance", **(generator_options or {})}
        d_opts = {"norm": "instance", **(discriminator_options or {})}
        self.G_AB = build_translator(generator, channels_a, channels_b, size, g_opts)
        self.G_BA = build_translator(generator, channels_b, channels_a, size, g_opts)
        self.D_A = build_patch_discriminator(discriminator, channels_a, d_opts)
        self.D_B = build_patch_discriminator(discriminator, channels_b, d_opts)
        self.stabilize_nets()
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)
        self.scores = cycle_scores()  # val / test: cycle L1 (lit_gan.models.paired_scores)

    def generator_for(self, direction: str) -> nn.Module:
        return self.G_AB if direction == "AtoB" else self.G_BA

    def generator_attributes(self) -> tuple[str, ...]:
        return ("G_AB", "G_BA")

    def discriminator_attributes(self) -> tuple[str, ...]:
        return ("D_A", "D_B")

    def r1_terms(self, batch: Any) -> list[tuple[Any, Tensor, int]]:
        """R1 on each domain's D at its real images."""
        real_a, real_b = domains(batch)
        return [(self.D_A, real_a, 1), (self.D_B, real_b, 1)]

    def generator_parameters(self):
        return [*self.G_AB.parameters(), *self.G_BA.parameters()]

    def discriminator_parameters(self):
        return [*self.D_A.parameters(), *self.D_B.parameters()]

    # ---- losses -----------------------------------------------------------------------
    def discriminator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        real_a, real_b = domains(batch)
        with torch.no_grad():
            fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
        loss_d_b = lsgan_d(self.D_B(real_b), self.D_B(self.pool_B.query(fake_b)))
        loss_d_a = lsgan_d(self.D_A(real_a), self.D_A(self.pool_A.query(fake_a)))
        return loss_d_a + loss_d_b, {"train/loss_d_a": loss_d_a, "train/loss_d_b": loss_d_b}

    def generator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        real_a, real_b = domains(batch)
        hp = self.hparams
        fake_b, fake_a = self.G_AB(real_a), self.G_BA(real_b)
        forward = F.l1_loss(self.G_BA(fake_b), real_a)  # A -> B -> A
        backward = F.l1_loss(self.G_AB(fake_a), real_b)  # B -> A -> B
        objective = hp.objective
        loss = torch.zeros((), device=self.device)
        logs = {"train/cycle_l1": forward + backward}
        if objective != "cycle":
            gan = lsgan_g(self.D_B(fake_b)) + lsgan_g(self.D_A(fake_a))
            loss = loss + gan
            logs["train/loss_g_gan"] = gan
        if objective in ("cyclegan", "cycle", "gan+forward"):
            loss = loss + hp.lambda_cycle * forward
        if objective in ("cyclegan", "cycle", "gan+backward"):
            loss = loss + hp.lambda_cycle * backward
        if hp.lambda_identity > 0:
            identity = F.l1_loss(self.G_AB(real_b), real_b) + F.l1_loss(self.G_BA(real_a), real_a)
            loss = loss + hp.lambda_identity * hp.lambda_cycle * identity
            logs["train/identity_l1"] = identity
        return loss, logs

    def preview(self, batch: Any) -> list[Tensor]:
        """Columns of the sample grid: A | G_AB(A) | B | G_BA(B)."""
        real_a, real_b = (x.to(self.device) for x in domains(batch))
        return [real_a, self.translate(real_a, "AtoB"), real_b, self.translate(real_b, "BtoA")]

    # ---- evaluation -------------------------------------------------------------------
    def paired_scores(self):
        """Fresh metrics of ``update_paired`` (``evaluate --metrics paired`` builds its own)."""
        return cycle_scores()

    def update_paired(self, scores, inputs: Tensor, translations: Tensor, partners: Tensor, direction: str) -> None:
        """Both cycles: ``inputs`` back from their ``translations``, and ``partners`` (images of the
        other domain, as the test loader pairs them) there and back."""
        back = "BtoA" if direction == "AtoB" else "AtoB"
        rec_inputs = self.translate(translations, back)
        rec_partners = self.translate(self.translate(partners, back), direction)
        if direction == "AtoB":
            scores["cycle_l1"].update(rec_inputs, inputs, rec_partners, partners)
        else:
            scores["cycle_l1"].update(rec_partners, partners, rec_inputs, inputs)

    def validation_scores(self, batch: Any, batch_idx: int) -> dict[str, Any]:
        """Cycle reconstruction error both ways (mean of the two L1s)."""
        real_a, real_b = domains(batch)
        self.update_paired(self.scores, real_a, self.translate(real_a, "AtoB"), real_b, "AtoB")
        return {"cycle_l1": self.scores["cycle_l1"]}

    # ---- the history pools are training state -------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        mine = {"A": self.pool_A.state_dict(), "B": self.pool_B.state_dict()}
        checkpoint["lit_gan"]["image_pools"] = distributed.all_gather_object(mine)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        pools = checkpoint.get("lit_gan", {}).get("image_pools")
        if not pools:
            return
        rank, world = distributed.world()
        if len(pools) != world:
            rank = 0  # another world size: every rank starts from rank 0's history
        # self.device is still the CPU here (Lightning restores before moving the model); the
        # pools move to their inputs' device at the first query
        self.pool_A.load_state_dict(pools[rank]["A"])
        self.pool_B.load_state_dict(pools[rank]["B"])
