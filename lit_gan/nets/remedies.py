"""Mode-collapse remedies as discriminator options: minibatch discrimination, minibatch
standard deviation and packing, for any loss (they change D, not the objective).

Set in ``model.init_args.discriminator_options`` beside the net's own options:

* ``minibatch_discrimination: true`` (+ ``minibatch_kernels``, ``minibatch_kernel_dim``):
  Salimans et al. 2016, sec. 3.2, on D's penultimate features (lit_gan.nets.minibatch);
* ``minibatch_stddev: true`` (+ ``minibatch_stddev_group``): Karras et al. 2018, sec. 3,
  one extra feature (map) before D's last layer;
* ``pack: m`` (PacGAN, Lin et al. 2018): D judges m samples at once, concatenated along the
  channels (images) or features (points): a batch of N real (or N fake) samples becomes
  N / m decisions, real packed with real and fake with fake. The batch size must be a
  multiple of m. PacGAN's own runs keep 100 decisions per batch (batch 100 * m samples).

The first two replace D's last layer (a Linear, or DCGAN's full-size Conv2d) by the new
layer followed by a last layer that also reads its output; nets without such a layer (patch
discriminators, the AC-GAN and projection heads) refuse them with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from lit_gan.nets.minibatch import MD_KERNEL_DIM, MD_KERNELS, STDDEV_GROUP, MinibatchDiscrimination, MinibatchStdDev


@dataclass(frozen=True)
class Remedies:
    pack: int = 1
    minibatch_discrimination: bool = False
    minibatch_kernels: int = MD_KERNELS
    minibatch_kernel_dim: int = MD_KERNEL_DIM
    minibatch_stddev: bool = False
    minibatch_stddev_group: int = STDDEV_GROUP

    @property
    def any(self) -> bool:
        return self.pack > 1 or self.minibatch_discrimination or self.minibatch_stddev


REMEDY_OPTIONS = tuple(f.name for f in fields(Remedies))
_SETTINGS_OF = {"minibatch_discrimination": ("minibatch_kernels", "minibatch_kernel_dim"),
                "minibatch_stddev": ("minibatch_stddev_group",)}


def split_remedies(options: dict[str, Any]) -> tuple[Remedies, dict[str, Any]]:
    """(the remedy options, the net's own options) from one ``discriminator_options`` dict."""
    given = {k: v for k, v in options.items() if k in REMEDY_OPTIONS}
    remedies = Remedies(**given)
    if not isinstance(remedies.pack, int) or isinstance(remedies.pack, bool) or remedies.pack < 1:
        raise ValueError(f"discriminator_options.pack must be an integer >= 1 (PacGAN uses 2, 3, 4), "
                         f"got {remedies.pack!r}")
    for switch, settings in _SETTINGS_OF.items():
        orphans = [k for k in given if k in settings]
        if orphans and not getattr(remedies, switch):
            raise ValueError(f"discriminator_options {orphans} set without {switch}: true; add it, or remove them")
    return remedies, {k: v for k, v in options.items() if k not in REMEDY_OPTIONS}


def packed_shape(data_shape: Sequence[int], pack: int) -> tuple[int, ...]:
    """The shape D's net reads: m samples side by side along the first (channel) axis."""
    return (data_shape[0] * pack, *data_shape[1:])


class Packed(nn.Module):
    """(N, C, ...) -> the net on (N / m, m C, ...): consecutive samples form a pack."""

    def __init__(self, net: nn.Module, pack: int) -> None:
        super().__init__()
        self.net, self.pack = net, pack

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        if n % self.pack:
            raise ValueError(f"a packed discriminator (pack={self.pack}) needs a batch that is a multiple of "
                             f"{self.pack}, got {n} samples; set the data's batch_size to a multiple of {self.pack}")
        return self.net(x.reshape(n // self.pack, self.pack * x.shape[1], *x.shape[2:]))


def _last_layer_slot(net: nn.Module) -> tuple[nn.Module, str] | None:
    """(parent, name) of D's last layer: the final Linear / Conv2d that makes the logit."""
    for attr in ("net", "joint"):  # unconditional nets, the conditional maxout D
        seq = getattr(net, attr, None)
        if isinstance(seq, nn.Sequential) and isinstance(seq[-1], (nn.Linear, nn.Conv2d)):
            return seq, str(len(seq) - 1)
    if isinstance(getattr(net, "head", None), nn.Conv2d):  # the conditional DCGAN D
        return net, "head"
    return None


def _new_head(old: nn.Linear | nn.Conv2d, as_linear: bool, in_features: int) -> nn.Linear | nn.Conv2d:
    """A last layer for ``in_features`` inputs with the old one's outputs and weight scale."""
    outputs = old.out_features if isinstance(old, nn.Linear) else old.out_channels
    if as_linear:
        head: nn.Linear | nn.Conv2d = nn.Linear(in_features, outputs)
    else:
        head = nn.Conv2d(in_features, outputs, old.kernel_size, old.stride, old.padding)
    with torch.no_grad():
        head.weight.normal_(0.0, float(old.weight.std()))
        if head.bias is not None:
            head.bias.zero_()
    return head


def _with_batch_layer(net: nn.Module, remedies: Remedies, arch: str) -> nn.Module:
    slot = _last_layer_slot(net)
    name = "minibatch_discrimination" if remedies.minibatch_discrimination else "minibatch_stddev"
    if slot is None:
        raise ValueError(f"{name} needs a discriminator whose last layer reads a feature vector (or DCGAN's last "
                         f"feature map); the {arch!r} discriminator has none: use mlp, maxout or dcgan")
    parent, key = slot
    old = getattr(parent, key)
    as_linear = isinstance(old, nn.Linear)
    width = old.in_features if as_linear else old.in_channels
    layers: list[nn.Module] = []
    if remedies.minibatch_stddev:
        layers.append(MinibatchStdDev(remedies.minibatch_stddev_group))
        width += 1
    if remedies.minibatch_discrimination:
        if not as_linear:  # DCGAN's last conv covers the whole map: a Linear on it flattened is the same
            layers.append(nn.Flatten())
            width, as_linear = width * old.kernel_size[0] * old.kernel_size[1], True
        md = MinibatchDiscrimination(width, remedies.minibatch_kernels, remedies.minibatch_kernel_dim)
        layers.append(md)
        width = md.out_features
    setattr(parent, key, nn.Sequential(*layers, _new_head(old, as_linear, width)))
    return net


def apply_remedies(net: nn.Module, remedies: Remedies, arch: str) -> nn.Module:
    """``net`` with the minibatch layer(s) before its last layer, wrapped in a packer if pack > 1."""
    if remedies.minibatch_discrimination or remedies.minibatch_stddev:
        net = _with_batch_layer(net, remedies, arch)
    return Packed(net, remedies.pack) if remedies.pack > 1 else net


def pack_of(discriminator: nn.Module) -> int:
    """Samples per D decision (1 unless D is packed)."""
    return discriminator.pack if isinstance(discriminator, Packed) else 1
