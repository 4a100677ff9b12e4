"""Building blocks shared by the nets: weight init, a norm factory, maxout."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

NormName = Literal["batch", "layer", "instance", "none"]


def norm_2d(name: NormName, channels: int) -> nn.Module:
    """A 2-D normalisation layer by name.

    ``layer`` is GroupNorm with one group: it normalises each sample over (C, H, W), the
    per-sample "layer norm" that Gulrajani et al. 2017 (sec. 4) recommend for a critic,
    since a gradient penalty is per sample and BatchNorm couples the batch.
    """
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "layer":
        return nn.GroupNorm(1, channels)
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"Unknown norm {name!r}; choose batch, layer, instance or none")


@torch.no_grad()
def init_normal_(module: nn.Module, std: float = 0.02) -> None:
    """Radford et al. 2015, sec. 4: all weights from N(0, 0.02).

    Norm layers with a scale get N(1, 0.02) and zero bias (the DCGAN reference code),
    so they start close to the identity.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


class Maxout(nn.Module):
    """A maxout unit layer (Goodfellow et al. 2013): ``pieces`` linear maps, keep the max."""

    def __init__(self, in_features: int, out_features: int, pieces: int) -> None:
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        y = self.linear(x).view(x.shape[0], self.out_features, self.pieces)  # (N, out, pieces)
        return y.amax(dim=2)  # (N, out)
