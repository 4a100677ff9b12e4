"""DCGAN generator and discriminator (Radford et al. 2015, sec. 3 and Fig. 1).

The paper's rules: no pooling (strided convs in D, fractionally strided convs in G), no
hidden fully connected layers, BatchNorm in G and in D except D's input layer, ReLU in
G with a tanh output, LeakyReLU(0.2) in D, weights from N(0, 0.02).

Sizes: 64 is the paper's (4 -> 8 -> 16 -> 32 -> 64); 32 drops one stage
(4 -> 8 -> 16 -> 32); 28 starts from a 7x7 map (7 -> 14 -> 28), the common MNIST layout.
"""

from __future__ import annotations

from torch import Tensor, nn

from lit_gan.nets.layers import NormName, init_normal_, norm_2d


def stages_for(image_size: int) -> tuple[int, int]:
    """``(base, n_up)``: the first feature map's side and the number of x2 upsamplings.

    Halve until the side is 4 or 7: 64 -> (4, 4), 32 -> (4, 3), 28 -> (7, 2).
    """
    base, n_up = image_size, 0
    while base > 7 and base % 2 == 0:
        base, n_up = base // 2, n_up + 1
    if base not in (4, 7) or n_up < 1:
        raise ValueError(
            f"DCGAN nets support image sizes of 4 * 2^k or 7 * 2^k (28, 32, 64, 128, ...), "
            f"got {image_size}; set data.init_args.image_size to one of them"
        )
    return base, n_up


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, channels, image_size, image_size) in [-1, 1]."""

    def __init__(self, latent_dim: int = 100, image_size: int = 64, channels: int = 3, features: int = 64) -> None:
        super().__init__()
        base, n_up = stages_for(image_size)
        width = features * 2 ** (n_up - 1)  # 64px: 512 = 8 * 64, as in Fig. 1 (1024 there at 4x4)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, width, base, 1, 0, bias=False),  # (N, width, base, base)
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),  # side x2, channels / 2
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]  # (N, C, size, size)
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim
        init_normal_(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


def discriminator_trunk(image_size: int, channels: int, features: int, norm: NormName
                        ) -> tuple[list[nn.Module], int, int]:
    """D's layers up to (not including) its last conv, and the (width, side) they end at:
    64 -> (8f, 4), 32 -> (4f, 4), 28 -> (2f, 7) for ``features`` f."""
    base, n_up = stages_for(image_size)
    layers: list[nn.Module] = [nn.Conv2d(channels, features, 4, 2, 1), nn.LeakyReLU(0.2, True)]  # no norm on input
    width = features
    for _ in range(n_up - 1):
        layers += [
            nn.Conv2d(width, width * 2, 4, 2, 1, bias=norm == "none"),  # side / 2, channels x2
            norm_2d(norm, width * 2),
            nn.LeakyReLU(0.2, True),
        ]
        width *= 2
    return layers, width, base


class DCGANDiscriminator(nn.Module):
    """images (N, channels, size, size) -> logits (N,). No sigmoid: losses take logits.

    ``norm="batch"`` is the paper's; ``"layer"`` or ``"none"`` give a critic for a
    gradient penalty (Gulrajani et al. 2017, sec. 4: no BatchNorm in the critic).
    """

    def __init__(self, image_size: int = 64, channels: int = 3, features: int = 64, norm: NormName = "batch") -> None:
        super().__init__()
        layers, width, base = discriminator_trunk(image_size, channels, features, norm)
        layers.append(nn.Conv2d(width, 1, base, 1, 0))  # (N, 1, 1, 1)
        self.net = nn.Sequential(*layers)  # one Sequential: checkpoints keep their keys net.0 ... net.N
        init_normal_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten()
