"""The CycleGAN ResNet generator (Zhu et al. 2017, appendix 7.2; after Johnson et al. 2016).

Appendix 7.2 (c7s1-k = 7x7 Conv-InstanceNorm-ReLU, stride 1, k filters; dk = 3x3
Conv-InstanceNorm-ReLU, stride 2; Rk = a residual block of two 3x3 convs with k filters
each; uk = 3x3 fractionally strided Conv-InstanceNorm-ReLU, stride 1/2):

    c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-3

n_blocks is 6 for 128x128 training images and 9 for 256x256 or larger. Reflection
padding reduces border artifacts (appendix 7.2); we use it on the stride-1 convs (the
7x7 ones and inside the residual blocks), and zero padding on the stride-2 convs, as
the public reference code does. The last c7s1 layer has no norm and ends in tanh.
A residual block adds its input to conv-norm-ReLU-conv-norm, with no ReLU after the sum
(Johnson et al. 2016, supplementary).

Code <-> paper: ``net`` holds the layers in the order above; ``ResidualBlock`` is Rk.
"""

from __future__ import annotations

from torch import Tensor, nn

from lit_gan.nets.layers import NormName, init_normal_, norm_2d

N_DOWN = 2  # appendix 7.2: d128, d256 -- two stride-2 convs, so H and W must be multiples of 4


def resnet_blocks_for(image_size: int) -> int:
    """Zhu et al. 2017, appendix 7.2: 6 residual blocks up to 128x128, 9 for 256x256 and up."""
    return 6 if image_size <= 128 else 9


class ResidualBlock(nn.Module):
    """Rk: x + (pad-conv3x3-norm-ReLU-pad-conv3x3-norm)(x); shape kept (N, k, H, W)."""

    def __init__(self, channels: int, norm: NormName = "instance") -> None:
        super().__init__()
        bias = norm == "none"  # a following norm removes a conv bias anyway
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_2d(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_2d(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """images (N, in_channels, H, W) -> images (N, out_channels, H, W) in [-1, 1].

    H and W must be multiples of 4 (two stride-2 convs down, two up) and at least 8
    (reflection padding needs the 2x2 innermost map). ``norm="instance"`` is CycleGAN's
    InstanceNorm without affine parameters or running statistics.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        features: int = 64,  # appendix 7.2: c7s1-64
        n_blocks: int = 9,  # appendix 7.2: 9 for 256x256 (6 for 128x128, see resnet_blocks_for)
        norm: NormName = "instance",  # appendix 7.2 (instance normalization, Ulyanov et al. 2016)
    ) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"ResnetGenerator needs n_blocks >= 0; got {n_blocks}")
        self.n_blocks = n_blocks
        bias = norm == "none"
        f = features
        layers: list[nn.Module] = [  # c7s1-64
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, f, 7, bias=bias),
            norm_2d(norm, f),
            nn.ReLU(True),
        ]  # (N, 64, H, W)
        for i in range(N_DOWN):  # d128, d256
            c_in, c_out = f * 2**i, f * 2 ** (i + 1)
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=bias), norm_2d(norm, c_out), nn.ReLU(True)]
        # (N, 256, H/4, W/4)
        width = f * 2**N_DOWN
        layers += [ResidualBlock(width, norm) for _ in range(n_blocks)]  # R256 x n_blocks, (N, 256, H/4, W/4)
        for i in reversed(range(N_DOWN)):  # u128, u64: side (S - 1) * 2 - 2 * 1 + 3 + 1 = 2S
            c_in, c_out = f * 2 ** (i + 1), f * 2**i
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1, bias=bias),
                norm_2d(norm, c_out),
                nn.ReLU(True),
            ]
        # (N, 64, H, W)
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(f, out_channels, 7), nn.Tanh()]  # c7s1-3: (N, out, H, W)
        self.net = nn.Sequential(*layers)
        init_normal_(self)  # appendix 7.1: weights from N(0, 0.02)

    @staticmethod
    def check_size(height: int, width: int) -> None:
        """Raise a ValueError unless H and W are multiples of 4 and at least 8."""
        step = 2**N_DOWN
        if height % step or width % step or height < 2 * step or width < 2 * step:
            raise ValueError(
                f"ResnetGenerator needs H and W that are multiples of {step} and at least {2 * step} "
                f"(two stride-2 convs down and two up must give back the input size); got {height}x{width}. "
                f"Resize or crop the images (e.g. to 128 or 256)"
            )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"ResnetGenerator expects images (N, C, H, W); got shape {tuple(x.shape)}")
        self.check_size(x.shape[-2], x.shape[-1])
        return self.net(x)


def resnet_9blocks(in_channels: int = 3, out_channels: int = 3, **options) -> ResnetGenerator:
    """CycleGAN's generator for 256x256 images (appendix 7.2)."""
    return ResnetGenerator(in_channels, out_channels, n_blocks=9, **options)


def resnet_6blocks(in_channels: int = 3, out_channels: int = 3, **options) -> ResnetGenerator:
    """CycleGAN's generator for 128x128 images (appendix 7.2)."""
    return ResnetGenerator(in_channels, out_channels, n_blocks=6, **options)
