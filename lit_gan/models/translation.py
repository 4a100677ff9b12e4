"""What pix2pix and CycleGAN share: Adam with a linear decay, inference the papers' way,
and the ``translate(x, direction)`` protocol that `translate`, `evaluate` and callbacks use."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from lit_gan.models.adversarial import AdversarialModel
from lit_gan.models.optim import build_schedule
from lit_gan.models.paper_inference import translate_batched
from lit_gan.nets import PATCH_DISCRIMINATORS, TRANSLATORS

DIRECTIONS = ("AtoB", "BtoA")
TranslatorName = TRANSLATORS.names()
PatchDiscriminatorName = PATCH_DISCRIMINATORS.names()


@contextmanager
def eval_inference(net: nn.Module) -> Iterator[None]:
    was_training = net.training
    net.eval()
    try:
        yield
    finally:
        net.train(was_training)


class TranslationModel(AdversarialModel):
    """Subclasses provide ``generators`` (direction -> net), ``generator_parameters()`` and
    ``discriminator_parameters()``; ``hparams`` must hold lr, betas, constant_epochs,
    decay_epochs, data_shape and inference ('paper' or 'eval')."""

    directions: tuple[str, ...] = DIRECTIONS

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.hparams.data_shape)

    @property
    def default_direction(self) -> str:
        return self.directions[0]

    def generator_for(self, direction: str) -> nn.Module:
        raise NotImplementedError

    def translate(self, x: Tensor, direction: str | None = None) -> Tensor:
        """Images in [-1, 1] (N, C, H, W) translated; no gradients, the model unchanged. Each
        output depends on its own input only, not on the rest of the batch nor the RNG."""
        direction = direction or self.default_direction
        if direction not in self.directions:
            raise ValueError(f"this model translates {' or '.join(self.directions)}, not {direction}")
        net, x = self.for_sampling(self.generator_for(direction)), x.to(self.device)
        with torch.no_grad():
            if self.hparams.inference == "paper":  # sec. 3.3: each image on its own statistics, fixed dropout
                return translate_batched(net, x)
            with eval_inference(net):  # running statistics, no dropout: images are independent
                return net(x)

    def configure_optimizers(self):
        hp = self.hparams
        opt_g = torch.optim.Adam(self.generator_parameters(), lr=hp.lr, betas=tuple(hp.betas))
        opt_d = torch.optim.Adam(self.discriminator_parameters(), lr=hp.lr, betas=tuple(hp.betas))
        schedules = [build_schedule(o, "linear_decay", constant_epochs=hp.constant_epochs,
                                    decay_epochs=hp.decay_epochs) for o in (opt_g, opt_d)]
        return [opt_g, opt_d], schedules


def check_betas(betas: Sequence[float]) -> tuple[float, float]:
    if len(betas) != 2:
        raise ValueError(f"betas must be two numbers, got {betas}")
    return float(betas[0]), float(betas[1])
