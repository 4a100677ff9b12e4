"""Fully connected nets: the Goodfellow et al. 2014 MNIST pair and the 2-D toy nets.

Goodfellow et al. 2014's MNIST setup (the authors' pylearn2 ``mnist.yaml``):
G = 100 -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid; D = maxout(240 units x 5 pieces)
-> maxout(240 x 5) -> sigmoid, dropout with keep-probability 0.8 on the input and 0.5
on hidden layers. We end G with ``tanh`` instead of ``sigmoid`` because every dataset
here is scaled to [-1, 1]; it is the same function up to an affine change of pixel units.

Lin et al. 2018 (PacGAN) / Srivastava et al. 2017 (VEEGAN) 2-D nets (the PacGAN authors'
``2DGrid_GAN&PacGAN/pacgan_task.py`` and ``config.py``): G = 2 -> 4 x [Linear(400, no bias)
-> BatchNorm -> ReLU] -> Linear(400, 2) with bias (``batch_norm=True``); D = 3 maxout layers
of 200 units x 5 pieces -> Linear(200, 1) (``layers=3``); every weight from N(0, 0.02), every
bias 0 (``init="normal_0.02"``).
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

from torch import Tensor, nn

from lit_gan.nets.layers import Maxout, init_normal_

InitName = Literal["default", "normal_0.02"]


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"Unknown activation {name!r}; choose relu or leaky_relu")


def _initialise(net: nn.Module, init: str) -> None:
    """``default``: PyTorch's own init, as these nets always had. ``normal_0.02``: weights
    N(0, 0.02), biases 0 (Lin et al. 2018's code: ``IsotropicGaussian(0.02)``,
    ``Constant(0.0)``); BatchNorm1d keeps scale 1, shift 0, as Blocks' BatchNormalization starts."""
    if init == "normal_0.02":
        init_normal_(net, std=0.02)
    elif init != "default":
        raise ValueError(f"Unknown init {init!r}; choose 'default' (PyTorch's) or 'normal_0.02' (PacGAN's)")


class MLPGenerator(nn.Module):
    """z (N, latent_dim) -> samples (N, *out_shape).

    ``output="tanh"`` for images in [-1, 1]; ``"linear"`` for unbounded 2-D points.
    ``batch_norm``: each hidden layer is Linear(bias=False) -> BatchNorm1d -> activation (the
    PacGAN 2-D generator; a bias before BatchNorm would be cancelled by its mean). ``init``:
    see ``_initialise``. The defaults keep the plain layout (and old checkpoints' keys).
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: Sequence[int],
        hidden: Sequence[int] = (1200, 1200),  # Goodfellow et al. 2014, mnist.yaml
        activation: Literal["relu", "leaky_relu"] = "relu",
        output: Literal["tanh", "linear"] = "tanh",
        batch_norm: bool = False,  # Lin et al. 2018 code: True (BatchNormalization in each hidden layer)
        init: InitName = "default",  # Lin et al. 2018 code: "normal_0.02"
    ) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            if batch_norm:
                layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), _activation(activation)]
            else:
                layers += [nn.Linear(width, h), _activation(activation)]
            width = h
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if output == "tanh":
            layers.append(nn.Tanh())
        elif output != "linear":
            raise ValueError(f"Unknown output {output!r}; choose tanh or linear")
        self.net = nn.Sequential(*layers)
        _initialise(self, init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """samples (N, *in_shape) -> logits (N,). No sigmoid: losses work on logits."""

    def __init__(
        self,
        in_shape: Sequence[int],
        hidden: Sequence[int] = (512, 256),
        activation: Literal["relu", "leaky_relu"] = "leaky_relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(in_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), _activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


class MaxoutDiscriminator(nn.Module):
    """Goodfellow et al. 2014's MNIST discriminator: two maxout layers with dropout.

    ``layers`` maxout layers (PacGAN's 2-D D has 3 of 200 units x 5 pieces, no dropout);
    ``self.net`` always ends with the ``nn.Linear(units, 1)`` logit layer.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        units: int = 240,  # mnist.yaml: num_units 240
        pieces: int = 5,  # mnist.yaml: num_pieces 5
        input_dropout: float = 0.2,  # input_include_probs h0: 0.8
        dropout: float = 0.5,  # default_input_include_prob 0.5
        layers: int = 2,  # mnist.yaml: h0, h1; Lin et al. 2018 code: 3
        init: InitName = "default",  # Lin et al. 2018 code: "normal_0.02"
    ) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"MaxoutDiscriminator needs layers >= 1 maxout layer, got layers={layers}")
        hidden: list[nn.Module] = [Maxout(math.prod(in_shape), units, pieces), nn.Dropout(dropout)]  # (N, units)
        for _ in range(layers - 1):
            hidden += [Maxout(units, units, pieces), nn.Dropout(dropout)]  # (N, units)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(input_dropout),
            *hidden,
            nn.Linear(units, 1),  # (N, 1) logit
        )
        _initialise(self, init)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)
