"""DiffAugment (Zhao et al. 2020, arXiv:2006.10738): the same random, differentiable
augmentation T on every input of the discriminator, real and fake, in both the D step
(D(T(x)), D(T(G(z)))) and the G step (D(T(G(z)))), so D never sees un-augmented images and
G is trained through T. Their three policies and parameters (paper sec. 3 and Appendix; the
authors' DiffAugment-stylegan2-pytorch/DiffAugment_pytorch.py), for images in [-1, 1]:

=============  =======================================================================
color          brightness: add U(-0.5, 0.5); saturation: scale the distance to the
               pixel's channel mean by U(0, 2); contrast: scale the distance to the
               image's mean by U(0.5, 1.5)
translation    shift by whole pixels, up to 1/8 of the side (round(side / 8)) on each
               axis independently, uniform in [-s, s], zero-filled
cutout         zero a square of half the side (round(side / 2)); its centre uniform over
               the image (the authors' range [0, side] for an even square, [0, side - 1]
               for an odd one), the part outside the image clipped
=============  =======================================================================

One draw per image and operation. Several tensors given together (pix2pix's condition and
image; their N, H and W must agree) get the same draws: the same shift, cutout, brightness and
factors, each tensor with its own means.

Randomness: every draw comes from a ``torch.Generator``. Pass one to ``__call__``, or let the
augmentation seed its own (one per device, reused) from the global torch stream at each call:
the training RNG, which lit_gan saves per rank in the checkpoint (lit_gan.models.rng), so a
resumed run draws the same augmentations as an uninterrupted one. Draws are float32 on the
generator's device whatever the images' dtype (bf16 and fp32 runs augment alike).

kornia (a dependency) was not used: its colour adjustments are other operations (brightness
and contrast clip to [0, 1], contrast scales around 0 not the mean, saturation goes through
HSV), its RandomTranslate interpolates fractional shifts and RandomErasing draws random areas
and aspect ratios, and it draws from the global RNG rather than a given generator.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_gan.augment import operations
from lit_gan.errors import SettingError

# DiffAugment_pytorch.py: rand_brightness, rand_saturation, rand_contrast, rand_translation, rand_cutout
BRIGHTNESS_SHIFT = (-0.5, 0.5)  # torch.rand(...) - 0.5
SATURATION_FACTOR = (0.0, 2.0)  # torch.rand(...) * 2
CONTRAST_FACTOR = (0.5, 1.5)  # torch.rand(...) + 0.5
TRANSLATION_RATIO = 0.125  # rand_translation(ratio=0.125)
CUTOUT_RATIO = 0.5  # rand_cutout(ratio=0.5)

POLICIES: dict[str, tuple[str, ...]] = {
    "color": ("brightness", "saturation", "contrast"),
    "translation": ("translation",),
    "cutout": ("cutout",),
}
DEFAULT_POLICY = "color,translation,cutout"  # all three, as the authors' StyleGAN2 runs (their README)


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> ("color", "translation", "cutout"); "" -> () (no augmentation)."""
    names = tuple(name.strip() for name in str(policy).split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise SettingError(
            f"unknown DiffAugment policy {unknown[0]!r} in {policy!r}; use a comma-separated list of "
            f"{', '.join(POLICIES)} (the authors' StyleGAN2 runs use {DEFAULT_POLICY!r}), or '' for none")
    return names


def _size(side: int, ratio: float) -> int:
    """The authors' rounding: ``int(side * ratio + 0.5)``."""
    return int(side * ratio + 0.5)


class DiffAugment:
    """``augment(x)`` or ``augment(condition, image)``: the policy's operations in order."""

    def __init__(self, policy: str = DEFAULT_POLICY) -> None:
        self.policy = ",".join(parse_policy(policy))
        self.operations = tuple(op for name in parse_policy(policy) for op in POLICIES[name])
        self._generators: dict[torch.device, torch.Generator] = {}

    def __repr__(self) -> str:
        return f"DiffAugment(policy={self.policy!r})"

    def __call__(self, *images: Tensor, generator: torch.Generator | None = None) -> Tensor | tuple[Tensor, ...]:
        """The augmented images: one tensor for one, a tuple (same order) for several."""
        n, h, w = self._common_shape(images)
        if self.operations:
            generator = generator if generator is not None else self._from_training_rng(images[0].device)
            for operation in self.operations:
                images = self._apply(operation, images, n, h, w, generator)
        return images[0] if len(images) == 1 else tuple(images)

    @staticmethod
    def _common_shape(images: tuple[Tensor, ...]) -> tuple[int, int, int]:
        if not images:
            raise ValueError("DiffAugment needs at least one batch of images")
        shapes = [tuple(x.shape) for x in images]
        if any(len(s) != 4 for s in shapes) or len({(s[0], s[2], s[3]) for s in shapes}) != 1:
            raise ValueError(f"DiffAugment needs (N, C, H, W) batches with the same N, H and W; got {shapes}")
        n, _, h, w = shapes[0]
        return n, h, w

    def _from_training_rng(self, device: torch.device) -> torch.Generator:
        """This device's generator, re-seeded from the global torch stream (saved with the run)."""
        generator = self._generators.get(device)
        if generator is None:
            generator = self._generators[device] = torch.Generator(device=device)
        generator.manual_seed(int(torch.randint(0, 2**62, (1,)).item()))  # cpu: a seed from the training stream, which lit_gan saves per rank
        return generator

    @staticmethod
    def _apply(operation: str, images: tuple[Tensor, ...], n: int, h: int, w: int,
               generator: torch.Generator) -> tuple[Tensor, ...]:
        def uniform(low: float, high: float) -> Tensor:
            return low + (high - low) * torch.rand(n, generator=generator, device=generator.device)

        def integers(low: int, high: int) -> Tensor:  # [low, high)
            return torch.randint(low, high, (n,), generator=generator, device=generator.device)

        if operation == "brightness":
            shift = uniform(*BRIGHTNESS_SHIFT)
            return tuple(operations.add_brightness(x, shift) for x in images)
        if operation == "saturation":
            factor = uniform(*SATURATION_FACTOR)
            return tuple(operations.scale_saturation(x, factor) for x in images)
        if operation == "contrast":
            factor = uniform(*CONTRAST_FACTOR)
            return tuple(operations.scale_contrast(x, factor) for x in images)
        if operation == "translation":
            max_rows, max_cols = _size(h, TRANSLATION_RATIO), _size(w, TRANSLATION_RATIO)
            rows, cols = integers(-max_rows, max_rows + 1), integers(-max_cols, max_cols + 1)
            return tuple(operations.translate(x, rows, cols) for x in images)
        if operation == "cutout":
            height, width = _size(h, CUTOUT_RATIO), _size(w, CUTOUT_RATIO)
            # the centre's range as the authors': randint(0, side + (1 - size % 2))
            top = integers(0, h + 1 - height % 2) - height // 2
            left = integers(0, w + 1 - width % 2) - width // 2
            return tuple(operations.cut_out(x, top, left, height, width) for x in images)
        raise AssertionError(f"no operation {operation!r}")  # POLICIES names only the ones above
