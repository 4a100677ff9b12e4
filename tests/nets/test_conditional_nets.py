"""Class-conditional nets: shapes at 28/32/64, the label matters, conditional BN, projection by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from lit_gan.models.batch_stats import batch_statistics
from lit_gan.nets.conditional import build_conditional_nets
from lit_gan.nets.conditional_dcgan import (ConditionalBNGenerator, ConditionalDCGANDiscriminator,
                                            ConditionalDCGANGenerator, DCGANTrunk)
from lit_gan.nets.conditional_heads import ACGANDiscriminator, ProjectionDiscriminator
from lit_gan.nets.conditional_mlp import ConditionalMaxoutDiscriminator, ConditionalMLPGenerator
from lit_gan.nets.conditional_norm import ConditionalBatchNorm2d
from lit_gan.nets.layers import Maxout

K = 4
SIZES = [28, 32, 64]


def _labels(n: int = 4) -> torch.Tensor:
    return torch.arange(n) % K


def _randomise_cbn_(net: nn.Module) -> None:
    """Conditional gammas / betas start equal for every class; give each class its own."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.gamma.weight.normal_(1.0, 0.5)
                m.beta.weight.normal_(0.0, 0.5)


# ---- shapes -------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("cls", [ConditionalDCGANGenerator, ConditionalBNGenerator])
def test_generator_shapes_and_range(cls, size, channels):
    torch.manual_seed(0)
    g = cls(latent_dim=16, num_classes=K, image_size=size, channels=channels, features=8)
    x = g(torch.randn(4, 16), _labels())
    assert x.shape == (4, channels, size, size)
    assert x.abs().max() <= 1.0


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_discriminator_shapes(size, channels):
    torch.manual_seed(0)
    x, y = torch.randn(4, channels, size, size), _labels()
    assert ConditionalDCGANDiscriminator(K, size, channels, features=8)(x, y).shape == (4,)
    assert ProjectionDiscriminator(K, size, channels, features=8)(x, y).shape == (4,)
    logits, classes = ACGANDiscriminator(K, size, channels, features=8)(x)
    assert logits.shape == (4,) and classes.shape == (4, K)


@pytest.mark.parametrize("size, expected", [(28, (16, 7)), (32, (32, 4)), (64, (64, 4))])
def test_trunk_is_dcgan_discriminator_without_its_last_conv(size, expected):
    trunk = DCGANTrunk(size, 1, features=8)
    assert (trunk.out_channels, trunk.base) == expected
    assert trunk(torch.randn(2, 1, size, size)).shape == (2, expected[0], expected[1], expected[1])


def test_dcgan_discriminator_reads_one_hot_label_maps_as_extra_channels():
    d = ConditionalDCGANDiscriminator(K, 28, 1, features=8)
    assert d.trunk.net[0].in_channels == 1 + K


def test_mirza_osindero_layer_sizes():
    g = ConditionalMLPGenerator(100, 10, (1, 28, 28))
    linears = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, nn.Linear)]
    assert linears == [(100, 200), (10, 1000), (1200, 1200), (1200, 784)]
    assert g(torch.rand(3, 100), torch.tensor([0, 5, 9])).shape == (3, 1, 28, 28)
    d = ConditionalMaxoutDiscriminator(10, (1, 28, 28))
    maxouts = [(m.linear.in_features, m.out_features, m.pieces) for m in d.modules() if isinstance(m, Maxout)]
    assert maxouts == [(784, 240, 5), (10, 50, 5), (290, 240, 4)]
    assert d(torch.rand(3, 1, 28, 28), torch.tensor([0, 5, 9])).shape == (3,)
    assert all(m.p == 0.5 for m in d.joint if isinstance(m, nn.Dropout))


def test_bad_image_size_raises():
    with pytest.raises(ValueError, match="got 30"):
        ConditionalDCGANGenerator(16, K, image_size=30)
    with pytest.raises(ValueError, match="got 48"):
        ProjectionDiscriminator(K, image_size=48)


# ---- the label changes the output ------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: ConditionalMLPGenerator(8, K, (1, 28, 28)),
    lambda: ConditionalDCGANGenerator(8, K, 28, 1, features=8),
])
def test_generator_label_changes_the_output(make):
    torch.manual_seed(0)
    g = make().eval()
    z = torch.randn(1, 8).expand(K, 8)  # one z, every class
    x = g(z, torch.arange(K))
    for i in range(1, K):
        assert not torch.allclose(x[0], x[i])
    torch.testing.assert_close(g(z, torch.arange(K)), x)  # deterministic in eval mode


@pytest.mark.parametrize("make", [
    lambda: ConditionalMaxoutDiscriminator(K, (1, 28, 28)),
    lambda: ConditionalDCGANDiscriminator(K, 28, 1, features=8),
    lambda: ProjectionDiscriminator(K, 28, 1, features=8),
])
def test_discriminator_label_changes_the_output(make):
    torch.manual_seed(0)
    d = make().eval()
    x = torch.randn(1, 1, 28, 28).expand(K, 1, 28, 28)
    out = d(x, torch.arange(K))
    assert len(set(out.tolist())) == K


# ---- conditional BatchNorm ------------------------------------------------------------------
def test_conditional_batchnorm_starts_as_plain_batchnorm_then_uses_per_class_params():
    torch.manual_seed(0)
    cbn, plain = ConditionalBatchNorm2d(3, K), nn.BatchNorm2d(3, affine=False)
    x, y = torch.randn(8, 3, 5, 5), _labels(8)
    torch.testing.assert_close(cbn(x, y), plain(x))  # gamma 1, beta 0 for every class
    with torch.no_grad():
        cbn.gamma.weight[1] = torch.tensor([2.0, 3.0, 4.0])
        cbn.beta.weight[1] = torch.tensor([0.5, -1.0, 0.0])
    out, normed = cbn(x, y), plain(x)
    rows = y == 1
    expected = normed[rows] * torch.tensor([2.0, 3.0, 4.0])[:, None, None] + torch.tensor([0.5, -1.0, 0.0])[:, None, None]
    torch.testing.assert_close(out[rows], expected)
    torch.testing.assert_close(out[~rows], normed[~rows])  # other classes untouched
    assert sorted(n for n, _ in cbn.named_parameters()) == ["beta.weight", "gamma.weight"]
    assert cbn.gamma.weight.shape == (K, 3)


def test_conditional_bn_generator_two_classes_same_z_give_different_outputs():
    torch.manual_seed(0)
    g = ConditionalBNGenerator(16, K, 32, 3, features=8).eval()
    z = torch.randn(1, 16).expand(2, 16)
    same = g(z, torch.tensor([0, 1]))
    torch.testing.assert_close(same[0], same[1])  # at init every class has gamma 1, beta 0
    _randomise_cbn_(g)
    x = g(z, torch.tensor([0, 1]))
    assert not torch.allclose(x[0], x[1], atol=1e-3)


def test_batch_statistics_finds_the_conditional_batchnorms():
    torch.manual_seed(0)
    g = ConditionalBNGenerator(16, K, 32, 1, features=8)
    _randomise_cbn_(g)
    g(torch.randn(8, 16), _labels(8))  # move the running statistics away from (0, 1)
    g.eval()
    z, y = torch.randn(4, 16), _labels()
    with batch_statistics(g):
        batch = g(z, y)
    assert not torch.allclose(batch, g(z, y))  # running vs batch statistics differ
    assert not g.training


# ---- projection discriminator ---------------------------------------------------------------
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_projection_class_term_is_embed_dot_phi_by_hand(spectral_norm):
    torch.manual_seed(0)
    d = ProjectionDiscriminator(K, 28, 1, features=8, spectral_norm=spectral_norm).eval()  # eval: no power iteration
    x, y = torch.randn(4, 1, 28, 28), torch.tensor([3, 0, 2, 3])
    phi = d.trunk(x).sum(dim=(2, 3))  # (N, width): global sum pooling
    psi = phi @ d.psi.weight.T  # (N, 1), no bias
    class_term = torch.stack([d.embed.weight[c] @ phi[i] for i, c in enumerate(y.tolist())])
    torch.testing.assert_close(d(x, y), psi.squeeze(1) + class_term)
    torch.testing.assert_close(d(x, y) - d.psi(d.phi(x)).squeeze(1), class_term)
    assert d.psi.bias is None


def test_projection_spectral_norm_bounds_every_weight():
    torch.manual_seed(0)
    d = ProjectionDiscriminator(K, 28, 1, features=8)
    normed = [m for m in d.modules() if parametrize.is_parametrized(m, "weight")]
    kinds = [next(k for k in (nn.Conv2d, nn.Linear, nn.Embedding) if isinstance(m, k)) for m in normed]
    assert kinds == [nn.Conv2d, nn.Conv2d, nn.Linear, nn.Embedding]  # two trunk convs at 28 px, psi, embed
    for _ in range(30):  # power iterations run in training-mode forwards
        d(torch.randn(4, 1, 28, 28), _labels())
    d.eval()
    for m in (d.psi, d.embed):
        assert torch.linalg.matrix_norm(m.weight, ord=2).item() == pytest.approx(1.0, abs=0.05)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())  # norm "none"


def test_acgan_heads_share_the_trunk():
    d = ACGANDiscriminator(K, 28, 1, features=8)
    assert d.source.in_channels == d.classes.in_channels == d.trunk.out_channels
    assert d.classes.out_channels == K


# ---- building by name -----------------------------------------------------------------------
def test_build_by_name_and_clear_errors():
    g, d = build_conditional_nets("dcgan_cbn", "projection", 8, K, (1, 28, 28), {"features": 8}, {"features": 8})
    assert isinstance(g, ConditionalBNGenerator) and isinstance(d, ProjectionDiscriminator)
    with pytest.raises(ValueError, match="Unknown conditional generator 'resnet'"):
        build_conditional_nets("resnet", "dcgan", 8, K, (1, 28, 28), {}, {})
    with pytest.raises(ValueError, match="Unknown conditional discriminator 'patchgan'"):
        build_conditional_nets("dcgan", "patchgan", 8, K, (1, 28, 28), {}, {})
    with pytest.raises(ValueError, match=r"Bad generator_options \{'width': 3\} for the conditional 'dcgan'"):
        build_conditional_nets("dcgan", "dcgan", 8, K, (1, 28, 28), {"width": 3}, {})
    with pytest.raises(ValueError, match="square images"):
        build_conditional_nets("dcgan", "dcgan", 8, K, (2,), {}, {})


# ---- soft labels: class weights (N, K) --------------------------------------------------------
GENERATORS = {
    "mlp": lambda: ConditionalMLPGenerator(8, K, (1, 28, 28)),
    "dcgan": lambda: ConditionalDCGANGenerator(8, K, 28, 1, features=8),
    "dcgan_cbn": lambda: ConditionalBNGenerator(8, K, 28, 1, features=8),
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_one_hot_weights_equal_int_labels_and_a_mix_lies_between(name):
    torch.manual_seed(0)
    g = GENERATORS[name]()
    _randomise_cbn_(g)
    g.eval()
    z = torch.randn(1, 8).expand(3, 8)  # one z
    y = torch.tensor([0, 1, 2])
    weights = torch.nn.functional.one_hot(y, K).float()
    assert torch.equal(g(z, weights), g(z, y))  # one-hot = the class, bit for bit
    ends = g(z[:2], torch.tensor([0, 1]))
    mid = g(z[:1], torch.tensor([[0.5, 0.5] + [0.0] * (K - 2)]))[0]
    assert not torch.allclose(mid, ends[0], atol=1e-4) and not torch.allclose(mid, ends[1], atol=1e-4)


def test_conditional_batchnorm_mixes_gamma_and_beta_by_the_weights():
    torch.manual_seed(0)
    cbn, plain = ConditionalBatchNorm2d(3, K).eval(), nn.BatchNorm2d(3, affine=False).eval()
    with torch.no_grad():
        cbn.gamma.weight.normal_(1.0, 0.5)
        cbn.beta.weight.normal_(0.0, 0.5)
    x = torch.randn(2, 3, 5, 5)
    w = torch.tensor([[0.25, 0.75, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
    gamma, beta = w @ cbn.gamma.weight, w @ cbn.beta.weight  # (2, 3)
    torch.testing.assert_close(cbn(x, w), gamma[:, :, None, None] * plain(x) + beta[:, :, None, None])


def test_dcgan_generator_reads_the_weighted_mix_of_embeddings():
    torch.manual_seed(0)
    g = ConditionalDCGANGenerator(8, K, 28, 1, features=8).eval()
    z, w = torch.randn(1, 8), torch.tensor([[0.5, 0.0, 0.5, 0.0]])
    h = torch.cat([z, (g.embed.weight[0] + g.embed.weight[2])[None] / 2], dim=1)
    torch.testing.assert_close(g(z, w), g.body(h))


@pytest.mark.parametrize("name", list(GENERATORS))
def test_class_weights_of_the_wrong_width_are_refused(name):
    g = GENERATORS[name]().eval()
    with pytest.raises(ValueError, match=rf"class weights of shape \(N, {K}\); got \(2, {K + 1}\)"):
        g(torch.randn(2, 8), torch.full((2, K + 1), 1 / (K + 1)))
