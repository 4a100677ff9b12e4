"""pix2pix's test-time inference (Isola et al. 2017, sec. 3.3), one image at a time or batched.

The reference test script runs the generator as in training on a batch of 1: each BatchNorm
normalises the image with its own statistics, and dropout stays on. Its noise is drawn from
the image's device's default stream re-seeded with ``INFERENCE_SEED`` before each image, so
every image of one shape gets the same masks, and a translation is a function of its input
alone (`translate` and `evaluate` agree on any batch size and any number of processes).

``translate_batched`` computes the same in one forward over N images:
- each BatchNorm normalises each image over its own positions (H x W), with biased
  variance and the layer's weight and bias, never reading or writing its running statistics:
  ``F.instance_norm``, which runs the BatchNorm kernel on a (1, N*C, H, W) view;
- each dropout layer draws one mask the way it does for one image (the layer's own native
  op on ones of the one-image shape, dtype and device, so CUDA's fused kernel draws it as it
  would for the image), from the stream seeded once before the forward: the layers draw in
  call order, as they do for each image. The whole batch is multiplied by that mask.
``translate_one_at_a_time`` is the reference it is tested (and benchmarked) against.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import AlphaDropout, FeatureAlphaDropout, _DropoutNd

from lit_gan.models.batch_stats import batch_statistics

# The dropout noise of paper inference: the same draw for every image, whatever the RNG did before.
INFERENCE_SEED = 0


@contextmanager
def paper_modes(net: nn.Module) -> Iterator[None]:
    """pix2pix sec. 3.3: at test time the generator runs as in training: dropout on and
    BatchNorm with the test batch's statistics, without touching the running statistics, so
    evaluating never changes the model. Eagerly: see ``_eager``."""
    with batch_statistics(net, dropout=True), _eager(net):
        yield


@contextmanager
def _eager(net: nn.Module) -> Iterator[None]:
    """A net compiled in place (``compile: true``, validation during fit) runs uncompiled: Dynamo
    traced the swapped forwards and drew other masks (measured: 0.38 off the reference)."""
    compiled = [(m, getattr(m, "_compiled_call_impl", None)) for m in net.modules()]
    for m, _ in compiled:
        m._compiled_call_impl = None
    try:
        yield
    finally:
        for m, impl in compiled:
            m._compiled_call_impl = impl


def default_stream(device: torch.device) -> torch.Generator:
    """The global generator that random ops on ``device`` draw from."""
    if device.type == "cuda":
        return torch.cuda.default_generators[device.index if device.index is not None else torch.cuda.current_device()]
    if device.type == "mps":
        return torch.mps._get_default_mps_generator()
    return torch.default_generator


@contextmanager
def _seeded(device: torch.device) -> Iterator[torch.Generator]:
    """The device's default stream, seeded with ``INFERENCE_SEED``; the caller's state comes back after.
    Only that stream: torch.manual_seed would re-seed every CUDA device too."""
    stream = default_stream(device)
    state = stream.get_state()
    try:
        stream.manual_seed(INFERENCE_SEED)
        yield stream
    finally:
        stream.set_state(state)


def translate_one_at_a_time(net: nn.Module, x: Tensor) -> Tensor:
    """The reference: image by image, the stream re-seeded before each one."""
    outputs = []
    with paper_modes(net):
        for image in x.split(1):
            with _seeded(x.device):
                outputs.append(net(image))
    return torch.cat(outputs) if outputs else x.new_empty((0, *x.shape[1:]))


def translate_batched(net: nn.Module, x: Tensor) -> Tensor:
    """What ``translate_one_at_a_time`` gives (within float rounding), in one forward."""
    if len(x) == 0:
        return x.new_empty((0, *x.shape[1:]))
    with paper_modes(net), _seeded(x.device) as stream, _per_image(net, stream):
        return net(x)


@contextmanager
def _per_image(net: nn.Module, stream: torch.Generator) -> Iterator[None]:
    """BatchNorm and dropout layers of ``net`` swapped for their one-image-at-a-time forwards."""
    draws = _Draws(stream)
    with ExitStack() as stack:
        for name, m in net.named_modules():
            if isinstance(m, _BatchNorm):
                stack.enter_context(_forward(m, _own_statistics(m, name)))
            elif isinstance(m, _DropoutNd):
                stack.enter_context(_forward(m, draws.fixed_mask(m, name)))
        yield
        draws.check_none_after()


@contextmanager
def _forward(module: nn.Module, forward) -> Iterator[None]:
    previous = module.__dict__.get("forward")  # batch_statistics swaps a SyncBatchNorm's
    module.forward = forward
    try:
        yield
    finally:
        if previous is None:
            del module.forward
        else:
            module.forward = previous


def _own_statistics(bn: _BatchNorm, name: str):
    def forward(x: Tensor) -> Tensor:
        if x.dim() < 3 or math.prod(x.shape[2:]) == 1:
            # BatchNorm in training mode refuses a batch of one such input; say so in words
            raise ValueError(
                f"paper inference normalises each image with its own statistics (a batch of 1, Isola et al. "
                f"2017 sec. 3.3), but BatchNorm layer {name!r} sees {tuple(x.shape[1:])} per image: one value "
                f"per channel, which BatchNorm cannot normalise. Use inference: eval, or larger images")
        return F.instance_norm(x, weight=bn.weight, bias=bn.bias, eps=bn.eps)

    return forward


class _Draws:
    """Masks drawn in call order from the seeded stream; refuses a net whose other ops draw from
    it too (a functional dropout, noise), since those would draw for the batch, not per image."""

    def __init__(self, stream: torch.Generator) -> None:
        self.stream, self.expected = stream, stream.get_state()

    def fixed_mask(self, layer: _DropoutNd, name: str):
        if isinstance(layer, (AlphaDropout, FeatureAlphaDropout)):
            raise ValueError(f"paper inference batches multiplicative dropout only; {name!r} is "
                             f"{type(layer).__name__}. Use inference: eval")
        draw = type(layer).forward.__get__(layer)  # the layer's own op, in training mode here

        def forward(x: Tensor) -> Tensor:
            self.check_none_after()
            mask = draw(torch.ones_like(x[:1]))  # (1, C, ...): 0 or 1 / (1 - p), as for one image
            self.expected = self.stream.get_state()
            return x * mask

        return forward

    def check_none_after(self) -> None:
        if not torch.equal(self.stream.get_state(), self.expected):
            raise ValueError("paper inference can batch a net whose only random ops are nn.Dropout layers; "
                             "this one draws random numbers elsewhere too. Use inference: eval")
