"""The pix2pix U-Net generator (Isola et al. 2017, sec. 3.2.1 and appendix 6.1.1).

Appendix 6.1.1, for 256x256 images (Ck = Conv-BatchNorm-ReLU, CDk = the same with 50%
dropout; all convs 4x4, stride 2):

    encoder  C64-C128-C256-C512-C512-C512-C512-C512      256 -> 1 (8 halvings)
    decoder  CD512-CD512-CD512-C512-C256-C128-C64        1 -> 128, then a conv to the
                                                         output channels and tanh (-> 256)

No BatchNorm on the first encoder layer; the encoder's ReLUs are leaky (0.2), the
decoder's are not. Skip connections concatenate encoder layer i's activations to
decoder layer n - i's, so each decoder layer but the first reads twice the channels.

Code <-> paper: ``down[i]`` is encoder layer i + 1 (``down[-1]`` the bottleneck);
``up[j]`` is decoder layer j + 1; ``final`` is the conv to the output channels.

Two choices the appendix leaves open:
- The bottleneck conv has no norm. Its map is 1x1 at the paper's depth, where
  BatchNorm at the paper's batch size 1 and InstanceNorm at any batch size both output
  exactly zero, cutting the bottleneck off (the public reference code drops it too).
- Dropout goes on the first three decoder layers, as the appendix's CD512-CD512-CD512
  says, at every depth. pix2pix keeps dropout on at test time as its only noise source
  (sec. 3.1, 3.3); a model wanting that calls ``.train()`` on the ``nn.Dropout`` modules.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_gan.nets.layers import NormName, init_normal_, norm_2d

MAX_WIDTH_MULT = 8  # widths double from `features` and stop at 8x: 64 -> ... -> 512 (appendix 6.1.1)
N_DROPOUT_LAYERS = 3  # appendix 6.1.1: CD512-CD512-CD512, the three innermost decoder layers
DROPOUT_P = 0.5  # appendix 6.1.1: "dropout rate of 50%"
MAX_AUTO_DEPTH = 8  # unet_256 is the paper's deepest net


def _width(features: int, i: int) -> int:
    """Output channels of encoder layer ``i`` (0-based): 64, 128, 256, 512, 512, ..."""
    return features * min(2**i, MAX_WIDTH_MULT)


def unet_depth_for(image_size: int) -> int:
    """The number of halvings that takes ``image_size`` to 1 (or to odd), at most 8.

    256 -> 8 (unet_256), 128 -> 7 (unet_128), 64 -> 6; 96 -> 5 (a 3x3 bottleneck);
    512 -> 8 (a 2x2 bottleneck, the paper's net on bigger images).
    """
    depth, side = 0, image_size
    while side > 1 and side % 2 == 0 and depth < MAX_AUTO_DEPTH:
        side, depth = side // 2, depth + 1
    if depth == 0:
        raise ValueError(
            f"A U-Net needs an image side divisible by 2 at least once; got {image_size}. "
            f"Resize or crop the images to a multiple of 2**num_downs (e.g. 64, 128, 256)"
        )
    return depth


class UNetGenerator(nn.Module):
    """images (N, in_channels, H, W) -> images (N, out_channels, H, W) in [-1, 1].

    ``num_downs`` stride-2 convs take H and W down by ``2**num_downs`` (8 for 256x256
    gives a 1x1 bottleneck), so H and W must be multiples of ``2**num_downs``.
    ``norm="batch"`` is pix2pix's; ``dropout`` switches the CD layers' dropout.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        num_downs: int = 8,  # appendix 6.1.1: 8 halvings for 256x256
        features: int = 64,  # appendix 6.1.1: C64 first
        norm: NormName = "batch",  # pix2pix: BatchNorm, at test time with test-batch stats (sec. 3.3)
        dropout: bool = True,
    ) -> None:
        super().__init__()
        if num_downs < 2:
            raise ValueError(f"UNetGenerator needs num_downs >= 2 (one encoder layer plus a bottleneck); got {num_downs}")
        self.num_downs = num_downs
        n = num_downs

        # encoder: conv(4, 2, 1) halves the side; no norm on layer 1 or on the bottleneck
        down: list[nn.Module] = []
        for i in range(n):
            c_in = in_channels if i == 0 else _width(features, i - 1)
            normed = 0 < i < n - 1
            down.append(
                nn.Sequential(
                    nn.Conv2d(c_in, _width(features, i), 4, 2, 1, bias=not normed or norm == "none"),
                    norm_2d(norm, _width(features, i)) if normed else nn.Identity(),
                    nn.LeakyReLU(0.2, True),
                )  # (N, width_i, H / 2**(i+1), W / 2**(i+1))
            )
        self.down = nn.ModuleList(down)

        # decoder: up[j] doubles the side back to encoder layer n-2-j's, then its
        # activations are concatenated: width_{n-2-j} * 2 channels go to the next layer
        up: list[nn.Module] = []
        for j in range(n - 1):
            c_in = _width(features, n - 1) if j == 0 else 2 * _width(features, n - 1 - j)
            c_out = _width(features, n - 2 - j)
            drop = dropout and j < N_DROPOUT_LAYERS
            up.append(
                nn.Sequential(
                    nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=norm == "none"),
                    norm_2d(norm, c_out),
                    nn.Dropout(DROPOUT_P) if drop else nn.Identity(),
                    nn.ReLU(True),
                )  # (N, c_out, H / 2**(n-1-j), W / 2**(n-1-j)); with the skip: 2 * c_out channels
            )
        self.up = nn.ModuleList(up)
        self.final = nn.Sequential(
            nn.ConvTranspose2d(2 * features, out_channels, 4, 2, 1),  # (N, out_channels, H, W)
            nn.Tanh(),
        )
        init_normal_(self)  # appendix 6.2: weights from N(0, 0.02)

    def check_size(self, height: int, width: int) -> None:
        """Raise a ValueError unless ``height`` and ``width`` are multiples of ``2**num_downs``."""
        step = 2**self.num_downs
        if height % step or width % step or height < step or width < step:
            raise ValueError(
                f"UNetGenerator with num_downs={self.num_downs} needs H and W that are multiples of "
                f"2**{self.num_downs} = {step}; got {height}x{width}. Resize or crop the images, or "
                f"lower num_downs (U-Net skips need the encoder and decoder maps to line up)"
            )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"UNetGenerator expects images (N, C, H, W); got shape {tuple(x.shape)}")
        self.check_size(x.shape[-2], x.shape[-1])
        skips = []
        h = x
        for layer in self.down:
            h = layer(h)
            skips.append(h)
        h = skips.pop()  # the bottleneck: (N, width_{n-1}, H / 2**n, W / 2**n)
        for layer in self.up:
            h = torch.cat([layer(h), skips.pop()], dim=1)  # skip connection
        return self.final(h)  # (N, out_channels, H, W)


def unet_256(in_channels: int = 3, out_channels: int = 3, **options) -> UNetGenerator:
    """pix2pix's net for 256x256: 8 halvings, 1x1 bottleneck (appendix 6.1.1)."""
    return UNetGenerator(in_channels, out_channels, num_downs=8, **options)


def unet_128(in_channels: int = 3, out_channels: int = 3, **options) -> UNetGenerator:
    """The same net one level shallower for 128x128: 7 halvings, 1x1 bottleneck."""
    return UNetGenerator(in_channels, out_channels, num_downs=7, **options)
