"""What pix2pix and CycleGAN share: Adam with a linear decay, inference the papers' way,
and the ``translate(x, direction)`` protocol that `translate`, `evaluate` and callbacks use."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from lit_gan.models.adversarial import AdversarialModel
from lit_gan.models.batch_stats import batch_statistics
from lit_gan.models.optim import build_schedule

DIRECTIONS = ("AtoB", "BtoA")


# The dropout noise of paper inference: the same draw for every image, whatever the RNG did
# before, so a translation is a function of its input alone (`translate` and `evaluate` agree,
# on any batch size and any number of processes).
INFERENCE_SEED = 0


def paper_inference(net: nn.Module):
    """pix2pix sec. 3.3: at test time the generator runs as in training: dropout on and
    BatchNorm with the test batch's statistics, without touching the running statistics, so
    evaluating never changes the model."""
    return batch_statistics(net, dropout=True)


def translate_one_at_a_time(net: nn.Module, x: Tensor) -> Tensor:
    """Paper inference image by image: the reference test script's batch of 1, so BatchNorm
    normalises each image with its own statistics (a batch of 250 would mix them), and dropout
    draws ``INFERENCE_SEED``'s noise for each image. The caller's RNG state is left untouched."""
    stream = default_stream(x.device)
    state = stream.get_state()
    outputs = []
    try:
        with paper_inference(net):
            for image in x.split(1):
                # only the stream dropout draws from: torch.manual_seed would re-seed every CUDA device too
                stream.manual_seed(INFERENCE_SEED)
                outputs.append(net(image))
    finally:
        stream.set_state(state)
    return torch.cat(outputs) if outputs else x.new_empty((0, *x.shape[1:]))


def default_stream(device: torch.device) -> torch.Generator:
    """The global generator that random ops on ``device`` draw from."""
    if device.type == "cuda":
        return torch.cuda.default_generators[device.index if device.index is not None else torch.cuda.current_device()]
    if device.type == "mps":
        return torch.mps._get_default_mps_generator()
    return torch.default_generator


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
        net, x = self.generator_for(direction), x.to(self.device)
        with torch.no_grad():
            if self.hparams.inference == "paper":
                return translate_one_at_a_time(net, x)
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
