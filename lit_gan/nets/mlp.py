"""Fully connected nets: the Goodfellow et al. 2014 MNIST pair and the 2-D toy nets.

Goodfellow et al. 2014's MNIST setup (the authors' pylearn2 ``mnist.yaml``):
G = 100 -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid; D = maxout(240 units x 5 pieces)
-> maxout(240 x 5) -> sigmoid, dropout with keep-probability 0.8 on the input and 0.5
on hidden layers. We end G with ``tanh`` instead of ``sigmoid`` because every dataset
here is scaled to [-1, 1]; it is the same function up to an affine change of pixel units.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

from torch import Tensor, nn

from lit_gan.nets.layers import Maxout


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"Unknown activation {name!r}; choose relu or leaky_relu")


class MLPGenerator(nn.Module):
    """z (N, latent_dim) -> samples (N, *out_shape).

    ``output="tanh"`` for images in [-1, 1]; ``"linear"`` for unbounded 2-D points.
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: Sequence[int],
        hidden: Sequence[int] = (1200, 1200),  # Goodfellow et al. 2014, mnist.yaml
        activation: Literal["relu", "leaky_relu"] = "relu",
        output: Literal["tanh", "linear"] = "tanh",
    ) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), _activation(activation)]
            width = h
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if output == "tanh":
            layers.append(nn.Tanh())
        elif output != "linear":
            raise ValueError(f"Unknown output {output!r}; choose tanh or linear")
        self.net = nn.Sequential(*layers)

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
    """Goodfellow et al. 2014's MNIST discriminator: two maxout layers with dropout."""

    def __init__(
        self,
        in_shape: Sequence[int],
        units: int = 240,  # mnist.yaml: num_units 240
        pieces: int = 5,  # mnist.yaml: num_pieces 5
        input_dropout: float = 0.2,  # input_include_probs h0: 0.8
        dropout: float = 0.5,  # default_input_include_prob 0.5
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(input_dropout),
            Maxout(math.prod(in_shape), units, pieces),  # (N, 240)
            nn.Dropout(dropout),
            Maxout(units, units, pieces),  # (N, 240)
            nn.Dropout(dropout),
            nn.Linear(units, 1),  # (N, 1) logit
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)
