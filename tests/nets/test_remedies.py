"""Mode-collapse remedies: minibatch discrimination, minibatch stddev, packing (lit_gan.nets.remedies)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lit_gan.losses.gradient_penalty import gradient_penalty
from lit_gan.nets import build_discriminator, build_patch_discriminator
from lit_gan.nets.conditional import build_conditional_nets
from lit_gan.nets.minibatch import MinibatchDiscrimination, MinibatchStdDev
from lit_gan.nets.remedies import Packed, pack_of


def _loop_reference(f: torch.Tensor, md: MinibatchDiscrimination) -> torch.Tensor:
    """Salimans et al. 2016 eq. in sec. 3.2, one pair at a time."""
    m = (f @ md.T).view(len(f), md.kernels, md.kernel_dim)
    out = torch.zeros(len(f), md.kernels)
    for i in range(len(f)):
        for j in range(len(f)):
            if i != j:
                out[i] += torch.exp(-(m[i] - m[j]).abs().sum(dim=1))
    return torch.cat([f, out + md.bias], dim=1)


def test_minibatch_discrimination_matches_the_pairwise_definition():
    torch.manual_seed(0)
    md = MinibatchDiscrimination(6, kernels=4, kernel_dim=3)
    f = torch.randn(5, 6)
    torch.testing.assert_close(md(f), _loop_reference(f, md))


def test_minibatch_discrimination_sees_identical_samples():
    md = MinibatchDiscrimination(2, kernels=1, kernel_dim=2)
    with torch.no_grad():
        md.T.copy_(torch.eye(2))  # M_i = f_i
        md.bias.zero_()
    same = md(torch.ones(3, 2))[:, 2]  # every other sample at L1 distance 0: exp(0) twice
    apart = md(torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]))[:, 2]  # exp(-10) and exp(-20) / exp(-10)
    torch.testing.assert_close(same, torch.full((3,), 2.0))
    assert apart.max() < 1e-4


def test_minibatch_stddev_appends_the_group_std():
    x = torch.tensor([[0.0, 0.0], [2.0, 4.0], [5.0, 5.0], [5.0, 5.0]])  # groups of 2: std (1, 2) -> 1.5, then 0
    out = MinibatchStdDev(group_size=2)(x)
    assert out.shape == (4, 3)
    torch.testing.assert_close(out[:, 2], torch.tensor([1.5, 1.5, 1e-4, 1e-4]), atol=1e-6, rtol=0)
    maps = MinibatchStdDev()(torch.randn(6, 3, 4, 4))  # 6 samples, group 4 -> gcd 2
    assert maps.shape == (6, 4, 4, 4) and torch.all(maps[0, 3] == maps[1, 3]) and torch.all(maps[:, 3] > 0)


def test_a_packed_discriminator_judges_consecutive_samples_together():
    torch.manual_seed(0)
    d = build_discriminator("mlp", (2,), {"pack": 2, "hidden": [8]})
    assert isinstance(d, Packed) and pack_of(d) == 2 and d.net.net[1].in_features == 4
    x = torch.randn(6, 2)
    expected = d.net(torch.stack([torch.cat([x[0], x[1]]), torch.cat([x[2], x[3]]), torch.cat([x[4], x[5]])]))
    torch.testing.assert_close(d(x), expected)
    images = build_discriminator("dcgan", (1, 28, 28), {"pack": 3, "features": 4})
    assert images.net.net[0].in_channels == 3 and images(torch.randn(9, 1, 28, 28)).shape == (3,)


@pytest.mark.parametrize("arch, shape, options", [
    ("mlp", (2,), {"hidden": [8, 8]}),
    ("maxout", (1, 4, 4), {"units": 8, "pieces": 2}),
    ("dcgan", (1, 28, 28), {"features": 4}),
    ("dcgan", (3, 32, 32), {"features": 4, "norm": "layer"}),
])
@pytest.mark.parametrize("remedy", [{"minibatch_discrimination": True, "minibatch_kernels": 7},
                                    {"minibatch_stddev": True},
                                    {"minibatch_discrimination": True, "minibatch_stddev": True, "pack": 2}])
def test_remedies_on_every_discriminator_and_the_batch_matters(arch, shape, options, remedy):
    torch.manual_seed(0)
    d = build_discriminator(arch, shape, {**options, **remedy}).eval()
    x = torch.randn(8, *shape)
    out = d(x)
    assert out.shape == (8 // remedy.get("pack", 1),)
    # the first decision changes when only the other samples change: D sees the minibatch
    y = x.clone()
    y[2:] = torch.randn(6, *shape) * 3
    assert not torch.allclose(d(y)[0], out[0])
    out.sum().backward()
    assert all(p.grad is not None for p in d.parameters())


def test_conditional_discriminators_take_the_minibatch_layers_but_not_packing():
    _, d = build_conditional_nets("dcgan", "dcgan", 8, 10, (1, 28, 28), {"features": 4},
                                  {"features": 4, "minibatch_discrimination": True})
    assert d(torch.randn(4, 1, 28, 28), torch.arange(4)).shape == (4,)
    _, d = build_conditional_nets("mlp", "maxout", 8, 10, (1, 4, 4), {}, {"minibatch_stddev": True})
    assert d(torch.randn(4, 1, 4, 4), torch.arange(4)).shape == (4,)
    with pytest.raises(ValueError, match="packing .* unconditional"):
        build_conditional_nets("dcgan", "dcgan", 8, 10, (1, 28, 28), {}, {"pack": 2})


@pytest.mark.parametrize("build, match", [
    (lambda: build_discriminator("mlp", (2,), {"pack": 0}), "integer >= 1"),
    (lambda: build_discriminator("mlp", (2,), {"minibatch_kernels": 10}), "without minibatch_discrimination"),
    (lambda: build_discriminator("mlp", (2,), {"minibatch_discrimination": True, "minibatch_kernels": 0}),
     "kernels >= 1"),
    (lambda: build_conditional_nets("dcgan", "projection", 8, 10, (1, 32, 32), {}, {"minibatch_stddev": True}),
     "'projection' discriminator has none"),
    (lambda: build_patch_discriminator("patchgan", 6, {"pack": 2}), "judges patches"),
    (lambda: build_discriminator("mlp", (2,), {"pack": 4})(torch.randn(6, 2)), "multiple of 4, got 6"),
])
def test_bad_remedy_options_say_what_to_do(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_gradient_penalty_of_a_packed_critic_is_per_pack():
    torch.manual_seed(0)
    w = torch.randn(4)  # a linear critic on packs of 2 two-d points: gradient w for every pack
    critic = Packed(lambda x: x @ w, 2)
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    penalty = gradient_penalty(critic, real, fake, weight=1.0, group=2)
    torch.testing.assert_close(penalty, (w.norm() - 1) ** 2)  # one norm over the pack's 4 inputs
    unpacked = gradient_penalty(lambda x: x @ w[:2], real, fake, weight=1.0)
    torch.testing.assert_close(unpacked, (w[:2].norm() - 1) ** 2)
    with pytest.raises(ValueError, match="packs of 4"):
        gradient_penalty(critic, real, fake, group=4)


def test_packed_interpolates_share_one_weight_per_pack():
    torch.manual_seed(0)
    seen = {}

    def critic(x):
        seen["x"] = x.detach()
        return x.sum(dim=1)

    real, fake = torch.ones(8, 3), torch.zeros(8, 3)
    gradient_penalty(Packed(critic, 4), real, fake, group=4)
    eps = seen["x"][:, 0]  # the packed input (2, 12): each row is one pack; x_hat = eps everywhere
    assert seen["x"].shape == (2, 12)
    for row in seen["x"]:
        assert torch.all(row == row[0])
    assert not math.isclose(float(eps[0]), float(eps[1]))
