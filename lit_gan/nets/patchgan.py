"""PatchGAN and PixelGAN discriminators (Isola et al. 2017, sec. 3.2.2, appendix 6.1.2).

Appendix 6.1.2 (Ck = 4x4 Conv-BatchNorm-LeakyReLU(0.2), k filters; no BatchNorm on the
first C64; after the last layer a conv to 1 channel):

    1x1 PixelGAN   C64-C128, every conv 1x1
    16x16          C64-C128                       n_layers=1
    70x70          C64-C128-C256-C512              n_layers=3
    286x286        C64-C128-C256-C512-C512-C512    n_layers=5

The strides are the public reference code's: stride 2 for the first ``n_layers`` convs,
stride 1 for the last Ck and for the output conv, padding 1 everywhere. With them the
receptive field of one output unit is the patch size in the name: see
:func:`receptive_field`, which computes it from the layers. A 70x70 D maps a 256x256
input to a 30x30 grid of logits. CycleGAN uses the 70x70 D with InstanceNorm (Zhu et
al. 2017, appendix 7.2).

No sigmoid: the nets return logits, the losses take them. The output is a map
(N, 1, h, w); a loss averages over it, one real/fake decision per patch.
"""

from __future__ import annotations

from typing import Iterable

from torch import Tensor, nn

from lit_gan.nets.layers import NormName, init_normal_, norm_2d

MAX_WIDTH_MULT = 8  # widths double from `features` and stop at 8x: C64 ... C512 (appendix 6.1.2)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_UNSUPPORTED = (
    nn.ConvTranspose2d, nn.Upsample, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.PixelShuffle, nn.Linear, nn.Flatten,
)


def _pair_to_int(value, what: str, layer: nn.Module) -> int:
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"receptive_field handles square {what}s only; {layer} has {what} {value}")
        value = value[0]
    return int(value)


def _geometry(layers: nn.Module | Iterable[nn.Module]) -> list[tuple[int, int, int]]:
    """``(kernel, stride, padding)`` of each conv / pool in forward order.

    For a module, "forward order" is the order in which ``.modules()`` lists its
    sub-modules, which is the forward order for ``nn.Sequential`` stacks.
    """
    stack = [layers] if isinstance(layers, nn.Module) else list(layers)
    # keep repeats: a module listed twice in a Sequential runs twice
    modules = (m for layer in stack for _, m in layer.named_modules(remove_duplicate=False))
    geometry = []
    for m in modules:
        if isinstance(m, _UNSUPPORTED):
            raise ValueError(
                f"receptive_field handles stacks of Conv2d / MaxPool2d / AvgPool2d layers; {m} maps one "
                f"output unit to a region that depends on its position or on the whole input"
            )
        if isinstance(m, (nn.Conv2d, *_POOLS)):
            k = _pair_to_int(m.kernel_size, "kernel", m)
            s = _pair_to_int(m.stride, "stride", m)
            p = _pair_to_int(m.padding, "padding", m) if not isinstance(m.padding, str) else -1
            d = _pair_to_int(getattr(m, "dilation", 1), "dilation", m)
            geometry.append((d * (k - 1) + 1, s, p))  # a dilated kernel spans d * (k - 1) + 1 inputs
    if not geometry:
        raise ValueError("receptive_field found no Conv2d / MaxPool2d / AvgPool2d layer")
    return geometry


def receptive_field(layers: nn.Module | Iterable[nn.Module]) -> int:
    """The side of the input region that one output unit of a conv/pool stack depends on.

    Derivation: one unit of a layer with kernel k reads k adjacent units of its input.
    r adjacent units of its output are s (the stride) apart in its input, so together
    they read (r - 1) * s + k input units. Starting from r = 1 at the output and
    applying this going backwards through the layers gives the receptive field at the
    input. Padding, norms and activations do not enter; a 1x1 conv keeps r, since
    (r - 1) * 1 + 1 = r, so a stack of 1x1 convs (the PixelGAN) sees one pixel.
    """
    r = 1
    for k, s, _ in reversed(_geometry(layers)):
        r = (r - 1) * s + k
    return r


def min_input_size(layers: nn.Module | Iterable[nn.Module]) -> int:
    """The smallest input side for which the stack outputs at least a 1x1 map.

    A conv maps side n to floor((n + 2p - k) / s) + 1, which is >= m exactly when
    n >= (m - 1) * s + k - 2p; going backwards from m = 1 gives the minimum.
    """
    m = 1
    for k, s, p in reversed(_geometry(layers)):
        if p < 0:
            raise ValueError("min_input_size needs numeric conv padding, not 'same' / 'valid'")
        m = max(1, (m - 1) * s + k - 2 * p)
    return m


class PatchDiscriminator(nn.Module):
    """images (N, in_channels, H, W) -> logits (N, 1, h, w), one per (receptive-field) patch.

    ``n_layers`` sets the patch: 1 -> 16x16, 3 -> 70x70 (the paper's default), 5 -> 286x286.
    ``in_channels``: pix2pix's conditional D reads concat(A, B), e.g. 3 + 3 = 6;
    CycleGAN's D reads one image (3). ``norm="batch"`` is pix2pix's, CycleGAN's is
    ``"instance"``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        features: int = 64,  # appendix 6.1.2: C64 first
        n_layers: int = 3,  # appendix 6.1.2: the 70x70 PatchGAN
        norm: NormName = "batch",  # pix2pix appendix 6.1.2; CycleGAN appendix 7.2 uses "instance"
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(
                f"PatchDiscriminator needs n_layers >= 1 (1 -> 16x16 patches, 3 -> 70x70, 5 -> 286x286); "
                f"got {n_layers}. For 1x1 patches use PixelDiscriminator ('pixelgan')"
            )
        self.n_layers = n_layers
        bias = norm == "none"
        widths = [features * min(2**i, MAX_WIDTH_MULT) for i in range(n_layers + 1)]  # 64, 128, 256, 512, ...
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, widths[0], 4, 2, 1),  # C64, no norm: (N, 64, H/2, W/2)
            nn.LeakyReLU(0.2, True),
        ]
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1  # the last Ck keeps the side (minus 1)
            layers += [
                nn.Conv2d(widths[i - 1], widths[i], 4, stride, 1, bias=bias),  # (N, width_i, side/2 or side-1)
                norm_2d(norm, widths[i]),
                nn.LeakyReLU(0.2, True),
            ]
        # after n_layers stride-2 convs and one stride-1 conv: (N, width, H / 2**n_layers - 1, ...)
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 1))  # logits: (N, 1, H / 2**n_layers - 2, ...)
        self.net = nn.Sequential(*layers)
        self.min_size = min_input_size(self.net)
        init_normal_(self)  # appendix 6.2: weights from N(0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"PatchDiscriminator expects images (N, C, H, W); got shape {tuple(x.shape)}")
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(
                f"PatchDiscriminator with n_layers={self.n_layers} needs H and W of at least {self.min_size}; "
                f"got {x.shape[-2]}x{x.shape[-1]}. Use a smaller n_layers or larger images"
            )
        return self.net(x)


class PixelDiscriminator(nn.Module):
    """The 1x1 PixelGAN: C64-C128 and the output conv, all 1x1 (appendix 6.1.2).

    images (N, in_channels, H, W) -> logits (N, 1, H, W), one per pixel.
    """

    def __init__(self, in_channels: int = 3, features: int = 64, norm: NormName = "batch") -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, features, 1),  # C64, no norm: (N, 64, H, W)
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(features, 2 * features, 1, bias=norm == "none"),  # C128: (N, 128, H, W)
            norm_2d(norm, 2 * features),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * features, 1, 1),  # logits: (N, 1, H, W)
        )
        init_normal_(self)  # appendix 6.2: weights from N(0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"PixelDiscriminator expects images (N, C, H, W); got shape {tuple(x.shape)}")
        return self.net(x)
