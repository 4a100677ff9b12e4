"""Batched paper inference gives what the one-image-at-a-time reference gives."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.models.cyclegan import CycleGAN
from lit_gan.models.paper_inference import translate_batched, translate_one_at_a_time
from lit_gan.nets import build_translator
from lit_gan.nets.resnet_generator import ResnetGenerator
from tests.models.test_pix2pix import tiny
from tests.rng_helpers import seeding_calls  # noqa: F401 (fixture)


def images(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def perturbed(net: nn.Module) -> nn.Module:
    """BatchNorm with weights, biases and running statistics far from their initial values,
    so a net that used the running statistics, or dropped the affine part, would show it."""
    g = torch.Generator().manual_seed(3)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            for t in (m.weight, m.bias, m.running_mean):
                t.data = torch.randn(t.shape, generator=g)
            m.running_var.data = torch.rand(m.running_var.shape, generator=g) + 0.5
    return net


def unet() -> nn.Module:
    torch.manual_seed(0)
    return perturbed(tiny().generator)  # 32 px, 5 halvings: BatchNorm on 16x16 .. 2x2, dropout on 3 layers


def resnet_batchnorm() -> nn.Module:
    torch.manual_seed(0)
    model = CycleGAN(data_shape=(3, 16, 16), generator_options={"features": 4, "n_blocks": 1, "norm": "batch"},
                     discriminator_options={"features": 4, "n_layers": 1}, inference="paper")
    return perturbed(model.G_AB)


@pytest.mark.parametrize("make", [unet, resnet_batchnorm])
@pytest.mark.parametrize("n", [1, 3, 8])
def test_batched_equals_one_at_a_time(make, n):
    net, x = make(), images(n, 32 if make is unet else 16)
    with torch.no_grad():
        reference = translate_one_at_a_time(net, x)
        batched = translate_batched(net, x)
    assert (batched - reference).abs().max().item() <= 1e-6


def test_an_image_s_translation_ignores_its_batch_mates():
    net, x = unet(), images(8)
    other = images(8, seed=1)
    other[5] = x[5]
    with torch.no_grad():
        a, b = translate_batched(net, x), translate_batched(net, other)
        alone = translate_batched(net, x[5:6])
    assert not torch.equal(a[4], b[4])
    assert torch.equal(a[5], b[5])
    assert (a[5] - alone[0]).abs().max().item() <= 1e-6


def test_rng_streams_buffers_and_forwards_are_left_as_found(seeding_calls):  # noqa: F811
    net, x = unet(), images(4)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(7)
    seeding_calls.clear()
    state = torch.get_rng_state()
    with torch.no_grad():
        translate_batched(net, x)
    assert torch.equal(torch.get_rng_state(), state)
    assert seeding_calls == []  # torch.manual_seed would re-seed every CUDA device as well
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # running stats, num_batches_tracked
    assert all("forward" not in m.__dict__ for m in net.modules())
    assert net.training  # the mode it had


def test_the_model_translates_in_one_forward_with_the_reference_s_images():
    torch.manual_seed(0)
    model = tiny()
    perturbed(model.generator)
    calls = []
    model.generator.register_forward_hook(lambda *a: calls.append(1))
    x = images(6)
    with torch.no_grad():
        out = model.translate(x)
    assert len(calls) == 1
    with torch.no_grad():
        assert (out - translate_one_at_a_time(model.generator, x)).abs().max().item() <= 1e-6


class Probe(nn.Module):
    """A small non-U-Net: BatchNorm down to ``bottom`` x ``bottom``, channel dropout, ``extra`` noise.
    No conv: a batched conv rounds differently from a one-image one (1.8e-7 here), which a
    BatchNorm over a low-variance 2x2 map then scales past 1e-6."""

    def __init__(self, bottom: int = 2, dropout: nn.Module | None = None, extra: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(3), dropout or nn.Dropout2d(0.3),
                                  nn.AdaptiveAvgPool2d(bottom), nn.BatchNorm2d(3), nn.Dropout(0.5))
        self.extra = extra

    def forward(self, x):
        h = self.body(x)
        return h + torch.randn_like(h) if self.extra else h


def test_other_dropouts_and_nets():
    torch.manual_seed(0)
    net, x = perturbed(Probe()), images(5, 8)
    with torch.no_grad():
        diff = (translate_batched(net, x) - translate_one_at_a_time(net, x)).abs().max().item()
    assert diff <= 1e-6


@pytest.mark.parametrize("net, match", [
    (Probe(bottom=1), "one value per channel"),  # BatchNorm on one image's 1x1 map: torch refuses too
    (Probe(extra=True), "draws random numbers elsewhere"),  # noise outside dropout layers: not batchable
    (Probe(dropout=nn.AlphaDropout(0.2)), "multiplicative dropout only"),
])
def test_what_cannot_be_batched_is_refused_in_words(net, match):
    x = images(2, 8)
    with pytest.raises(ValueError, match=match), torch.no_grad():
        translate_batched(net, x)
    assert all("forward" not in m.__dict__ for m in net.modules())


def test_one_by_one_bn_fails_the_reference_too():
    with pytest.raises(ValueError, match="more than 1 value per channel"), torch.no_grad():
        translate_one_at_a_time(Probe(bottom=1), images(2, 8))


def test_instance_norm_resnet_matches_too():
    torch.manual_seed(0)
    net, x = ResnetGenerator(3, 3, features=4, n_blocks=1), images(3, 16)
    with torch.no_grad():
        assert (translate_batched(net, x) - translate_one_at_a_time(net, x)).abs().max().item() <= 1e-6


def test_an_empty_batch():
    assert translate_batched(unet(), images(0)).shape == (0, 3, 32, 32)


def test_a_compiled_net_gives_the_eager_reference_s_images():
    """Compiled in place (``compile: true``), the batched forward was 0.38 off; it now runs eagerly."""
    torch.manual_seed(0)
    net, x = build_translator("unet", 3, 3, 16, {"features": 4}), images(3, 16)
    with torch.no_grad():
        reference = translate_one_at_a_time(net, x)
        net.compile()
        assert (translate_batched(net, x) - reference).abs().max().item() <= 1e-6
    assert net._compiled_call_impl is not None  # still compiled for training
