"""Mirza & Osindero 2014 ("Conditional Generative Adversarial Nets", sec. 4.1) MNIST nets.

What the paper says (sec. 4.1):
- G: "a noise prior z with dimensionality 100 was drawn from a uniform distribution within
  the unit hypercube. Both z and y are mapped to hidden layers with Rectified Linear Unit
  (ReLu) activation, with layer sizes 200 and 1000 respectively, before both being mapped to
  second, combined hidden ReLu layer of dimensionality 1200. We then have a final sigmoid
  unit layer as our output for generating the 784-dimensional MNIST samples."
- D: "maps x to a maxout layer with 240 units and 5 pieces, and y to a maxout layer with 50
  units and 5 pieces. Both of the hidden layers mapped to a joint maxout layer with 240 units
  and 4 pieces before being fed to the sigmoid layer."
- "Dropout with probability of 0.5 was applied to both the generator and discriminator."
  y is the one-hot class label.

What we do differently, and why:
- G ends with ``tanh``, not ``sigmoid``: data here are in [-1, 1] (see lit_gan.nets.mlp);
  D ends with a logit (no sigmoid): the losses take logits.
- The paper does not say where dropout goes. We drop the hidden units of both nets with
  p = ``dropout`` (G: the 200 + 1000 concatenation and the 1200 layer; D: the 240 + 50
  concatenation and the joint 240 layer). Inputs are not dropped unless ``input_dropout``
  (D's x only; the one-hot y is never dropped).
- The noise distribution is the model's (lit_gan.models.conditional.CGAN), not the net's.
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gan.nets.label_input import class_weights
from lit_gan.nets.layers import Maxout


def one_hot(y: Tensor, num_classes: int, like: Tensor) -> Tensor:
    """(N,) class indices -> (N, num_classes) one-hot in ``like``'s dtype."""
    return F.one_hot(y, num_classes).to(like.dtype)


class ConditionalMLPGenerator(nn.Module):
    """z (N, latent_dim), y (N,) class indices or (N, K) class weights -> samples (N, *out_shape) in [-1, 1]."""

    def __init__(
        self,
        latent_dim: int,
        num_classes: int,
        out_shape: Sequence[int],
        z_hidden: int = 200,  # Mirza & Osindero 2014, sec. 4.1: z -> 200 ReLU
        y_hidden: int = 1000,  # y -> 1000 ReLU
        hidden: int = 1200,  # combined 1200 ReLU
        dropout: float = 0.5,  # "Dropout with probability of 0.5 ... generator"
        output: Literal["tanh", "linear"] = "tanh",
    ) -> None:
        super().__init__()
        if output not in ("tanh", "linear"):
            raise ValueError(f"Unknown output {output!r}; choose tanh or linear")
        self.num_classes, self.out_shape = num_classes, tuple(out_shape)
        self.z_net = nn.Sequential(nn.Linear(latent_dim, z_hidden), nn.ReLU())  # (N, 200)
        self.y_net = nn.Sequential(nn.Linear(num_classes, y_hidden), nn.ReLU())  # (N, 1000)
        layers: list[nn.Module] = [
            nn.Dropout(dropout),
            nn.Linear(z_hidden + y_hidden, hidden),  # (N, 1200)
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, math.prod(self.out_shape)),  # (N, 784)
        ]
        if output == "tanh":
            layers.append(nn.Tanh())
        self.joint = nn.Sequential(*layers)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = torch.cat([self.z_net(z), self.y_net(class_weights(y, self.num_classes, z.dtype))], dim=1)  # (N, 1200)
        return self.joint(h).view(z.shape[0], *self.out_shape)


class ConditionalMaxoutDiscriminator(nn.Module):
    """x (N, *in_shape), y (N,) -> logits (N,)."""

    def __init__(
        self,
        num_classes: int,
        in_shape: Sequence[int],
        x_units: int = 240,  # Mirza & Osindero 2014, sec. 4.1: x -> maxout 240 x 5
        x_pieces: int = 5,
        y_units: int = 50,  # y -> maxout 50 x 5
        y_pieces: int = 5,
        joint_units: int = 240,  # joint maxout 240 x 4
        joint_pieces: int = 4,
        dropout: float = 0.5,  # "Dropout with probability of 0.5 ... discriminator"
        input_dropout: float = 0.0,  # not in the paper
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.x_net = nn.Sequential(nn.Flatten(), nn.Dropout(input_dropout),
                                   Maxout(math.prod(in_shape), x_units, x_pieces))  # (N, 240)
        self.y_net = Maxout(num_classes, y_units, y_pieces)  # (N, 50)
        self.joint = nn.Sequential(
            nn.Dropout(dropout),
            Maxout(x_units + y_units, joint_units, joint_pieces),  # (N, 240)
            nn.Dropout(dropout),
            nn.Linear(joint_units, 1),  # (N, 1) logit
        )

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = torch.cat([self.x_net(x), self.y_net(one_hot(y, self.num_classes, x))], dim=1)  # (N, 290)
        return self.joint(h).squeeze(1)
