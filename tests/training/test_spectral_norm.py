"""spectral_normalize (Miyato et al. 2018): every weight parametrised, sigma ~ 1 after power
iterations, a state-dict round trip, and the one-line refusals."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_gan.errors import SettingError
from lit_gan.training.spectral_norm import is_spectrally_normalised, spectral_normalize


class _AllLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 6)
        self.conv = nn.Conv2d(3, 8, 4, 2, 1)
        self.up = nn.ConvTranspose2d(8, 5, 4, 2, 1)
        self.norm = nn.GroupNorm(1, 5)
        self.fc = nn.Linear(5 * 8 * 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.up(torch.relu(self.conv(x))))
        return self.fc(h.flatten(1))


def _sigma(layer: nn.Module) -> float:
    """The largest singular value of the layer's matrix (ConvTranspose: along dim 1, as torch takes it)."""
    w = layer.weight.detach()
    if isinstance(layer, nn.ConvTranspose2d):
        w = w.transpose(0, 1)
    return torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2).item()


def _layers(net: nn.Module) -> list[nn.Module]:
    return [net.embed, net.conv, net.up, net.fc]


def test_every_conv_transposed_conv_linear_and_embedding_weight_is_parametrised():
    net = spectral_normalize(_AllLayers())
    assert all(is_spectrally_normalised(m) for m in _layers(net))
    assert not hasattr(net.norm, "parametrizations")  # per-sample norms are kept as they are
    assert net.up.parametrizations.weight[0].dim == 1  # (in, out, k, k): the matrix along dim 1


def test_after_power_iterations_each_largest_singular_value_is_one():
    torch.manual_seed(0)
    net = _AllLayers()
    with torch.no_grad():
        for m in _layers(net):
            m.weight.mul_(7.0)  # far from 1 before
    assert all(_sigma(m) > 1.5 for m in _layers(net))
    spectral_normalize(net)
    net.train()
    for _ in range(50):  # each access of a weight in training mode runs one power iteration
        for m in _layers(net):
            m.weight
    net.eval()
    for m in _layers(net):
        assert _sigma(m) == pytest.approx(1.0, abs=1e-3), type(m).__name__


def test_training_output_of_a_normalised_net_is_finite_and_differentiable():
    net = spectral_normalize(_AllLayers()).train()
    out = net(torch.randn(2, 3, 8, 8))
    out.sum().backward()
    assert torch.isfinite(out).all()
    assert net.conv.parametrizations.weight.original.grad is not None


def test_state_dict_round_trip_gives_the_same_weights_and_vectors():
    torch.manual_seed(0)
    net = spectral_normalize(_AllLayers()).train()
    for _ in range(3):
        net(torch.randn(2, 3, 8, 8))
    state = net.state_dict()
    assert "conv.parametrizations.weight.original" in state and "conv.parametrizations.weight.0._u" in state
    torch.manual_seed(1)
    loaded = spectral_normalize(_AllLayers())
    loaded.load_state_dict(state)
    net.eval(), loaded.eval()
    for a, b in zip(_layers(net), _layers(loaded)):
        assert torch.equal(a.weight, b.weight)
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(net(x), loaded(x))


def test_normalising_twice_changes_nothing():
    net = spectral_normalize(spectral_normalize(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))))
    assert len(net[0].parametrizations.weight) == 1


def test_a_net_without_layers_to_normalise_is_refused():
    with pytest.raises(SettingError, match="no conv, linear or embedding layer") as err:
        spectral_normalize(nn.Sequential(nn.ReLU(), nn.Flatten()))
    assert "\n" not in str(err.value)


def test_batch_norm_is_refused_unless_allowed():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.2))
    with pytest.raises(SettingError, match=r"BatchNorm at \['1'\].*set its norm to 'none'") as err:
        spectral_normalize(net, "dcgan")
    assert "'dcgan'" in str(err.value) and "\n" not in str(err.value)
    spectral_normalize(net, allow_batch_norm=True)
    assert is_spectrally_normalised(net[0])


class _RawWeights(nn.Module):
    """Like minibatch discrimination: a weight tensor used directly, outside any conv or linear."""

    def __init__(self) -> None:
        super().__init__()
        self.T = nn.Parameter(torch.randn(4, 6))


def test_weights_that_spectral_norm_cannot_cover_are_refused():
    net = nn.Sequential(nn.Linear(3, 4), _RawWeights())
    with pytest.raises(SettingError, match=r"\['1'\] hold weights that are not a conv, linear or embedding"):
        spectral_normalize(net)
    assert not is_spectrally_normalised(net[0])  # refused before touching anything


def test_the_dcgan_discriminator_without_norm_takes_it():
    from lit_gan.nets.dcgan import DCGANDiscriminator

    net = spectral_normalize(DCGANDiscriminator(image_size=32, channels=1, features=8, norm="none"))
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(is_spectrally_normalised(m) for m in convs)
    assert net(torch.randn(2, 1, 32, 32)).isfinite().all()
