"""Class-conditional DCGAN nets at 28, 32, 64 px (and any size ``stages_for`` accepts).

The layout is lit_gan.nets.dcgan's (Radford et al. 2015: strided convs, BatchNorm, ReLU /
LeakyReLU(0.2), tanh output, N(0, 0.02) init); only the way the label enters is added:

- :class:`ConditionalDCGANGenerator`: the label's learned embedding (``embed_dim``) is
  concatenated to z, the common cDCGAN input (Mirza & Osindero 2014's "y as an extra input",
  with an embedding instead of their one-hot + dense layer).
- :class:`ConditionalBNGenerator`: z alone enters; the label acts through every BatchNorm,
  which becomes class-conditional (Miyato & Koyama 2018's generator, on the DCGAN layout
  instead of their ResNet).

Both generators take y as class indices (N,) or class weights (N, K)
(lit_gan.nets.label_input): a mix of classes mixes their embeddings / BN parameters.
- :class:`ConditionalDCGANDiscriminator`: the label as K one-hot constant maps concatenated to
  the image channels, (N, C + K, H, W). We picked this over an embedding projected to an HxW
  map: it has no parameters of its own and is the variant most cDCGAN code uses.

:class:`DCGANTrunk` is DCGAN's discriminator without its last conv; the AC-GAN and projection
discriminators (lit_gan.nets.conditional_heads) put their heads on it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gan.nets.conditional_norm import ConditionalBatchNorm2d
from lit_gan.nets.dcgan import discriminator_trunk, stages_for
from lit_gan.nets.label_input import embed_labels
from lit_gan.nets.layers import NormName, init_normal_


class DCGANTrunk(nn.Module):
    """images (N, in_channels, S, S) -> features (N, out_channels, base, base), after LeakyReLU.

    DCGAN's discriminator up to (not including) its last conv: S=64 -> (N, 8f, 4, 4),
    32 -> (N, 4f, 4, 4), 28 -> (N, 2f, 7, 7) for ``features`` f.
    """

    def __init__(self, image_size: int, in_channels: int, features: int = 64, norm: NormName = "batch") -> None:
        super().__init__()
        layers, width, base = discriminator_trunk(image_size, in_channels, features, norm)
        self.net = nn.Sequential(*layers)
        self.out_channels, self.base = width, base

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _UpStack(nn.Module):
    """DCGAN generator body: (N, in_dim) -> (N, channels, S, S) in [-1, 1].

    With ``num_classes`` every BatchNorm is a ConditionalBatchNorm2d that reads the labels.
    """

    def __init__(self, in_dim: int, image_size: int, channels: int, features: int, num_classes: int | None) -> None:
        super().__init__()
        base, n_up = stages_for(image_size)
        width = features * 2 ** (n_up - 1)  # 64px: 512 = 8 * 64

        def norm(c: int) -> nn.Module:
            return ConditionalBatchNorm2d(c, num_classes) if num_classes else nn.BatchNorm2d(c)

        self.convs = nn.ModuleList([nn.ConvTranspose2d(in_dim, width, base, 1, 0, bias=False)])  # (N, width, base, base)
        self.norms = nn.ModuleList([norm(width)])
        for _ in range(n_up - 1):
            self.convs.append(nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False))  # side x2, channels / 2
            self.norms.append(norm(width // 2))
            width //= 2
        self.out = nn.ConvTranspose2d(width, channels, 4, 2, 1)  # (N, C, S, S)
        self.in_dim = in_dim

    def forward(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        h = h.view(h.shape[0], self.in_dim, 1, 1)
        for conv, norm in zip(self.convs, self.norms):
            h = conv(h)
            h = norm(h, y) if isinstance(norm, ConditionalBatchNorm2d) else norm(h)
            h = F.relu(h)
        return torch.tanh(self.out(h))


class ConditionalDCGANGenerator(nn.Module):
    """z (N, latent_dim), y (N,) or (N, K) weights -> images (N, channels, S, S): G(concat(z, embed(y)))."""

    def __init__(self, latent_dim: int = 100, num_classes: int = 10, image_size: int = 28, channels: int = 1,
                 features: int = 64, embed_dim: int = 50) -> None:
        """embed_dim: size of the label embedding concatenated to z (a common cDCGAN choice, no paper's)."""
        super().__init__()
        self.latent_dim = latent_dim
        self.embed = nn.Embedding(num_classes, embed_dim)  # (K, embed_dim), N(0, 1) like z
        self.body = _UpStack(latent_dim + embed_dim, image_size, channels, features, None)
        init_normal_(self.body)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.body(torch.cat([z.view(z.shape[0], self.latent_dim), embed_labels(y, self.embed)], dim=1))  # (N, z + e)


class ConditionalBNGenerator(nn.Module):
    """z (N, latent_dim), y (N,) or (N, K) weights -> images (N, channels, S, S); y enters through conditional BN only."""

    def __init__(self, latent_dim: int = 128, num_classes: int = 10, image_size: int = 32, channels: int = 3,
                 features: int = 64) -> None:
        super().__init__()
        self.body = _UpStack(latent_dim, image_size, channels, features, num_classes)
        init_normal_(self.body)  # convs only: conditional gammas start at 1, betas at 0

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.body(z, y)


class ConditionalDCGANDiscriminator(nn.Module):
    """images (N, C, S, S), y (N,) -> logits (N,): D(concat(x, one-hot maps of y))."""

    def __init__(self, num_classes: int = 10, image_size: int = 28, channels: int = 1, features: int = 64,
                 norm: NormName = "batch") -> None:
        super().__init__()
        self.num_classes = num_classes
        self.trunk = DCGANTrunk(image_size, channels + num_classes, features, norm)  # reads (N, C + K, S, S)
        self.head = nn.Conv2d(self.trunk.out_channels, 1, self.trunk.base, 1, 0)  # (N, 1, 1, 1)
        init_normal_(self)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        maps = F.one_hot(y, self.num_classes).to(x.dtype)[:, :, None, None]  # (N, K, 1, 1)
        h = torch.cat([x, maps.expand(-1, -1, x.shape[2], x.shape[3])], dim=1)  # (N, C + K, S, S)
        return self.head(self.trunk(h)).flatten()
