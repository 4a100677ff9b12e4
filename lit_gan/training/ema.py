"""An exponential moving average of the generator's weights (Karras et al. 2018, "Progressive
Growing of GANs", sec. A.1; Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN
Training"), with the half-life and ramp-up of StyleGAN2-ADA (Karras et al. 2020,
stylegan2-ada-pytorch training/training_loop.py, "Update G_ema"):

    half_life = min(half_life_images, images_seen * rampup)     (no min when rampup is None)
    beta      = 0.5 ** (batch_size / max(half_life, 1e-8))
    average   = beta * average + (1 - beta) * G                 (after each G step)

A half-life in images, not a fixed decay: after ``half_life_images`` images the initial weights
weigh 1/2 in the average, whatever the batch size. A fixed decay of 0.9999 has a half-life of
ln 0.5 / ln 0.9999 ~ 6,931 steps, so a 2,000-step run would stay near its initial weights.
The ramp-up shortens the half-life early in training (to ``rampup`` times the images seen), so
the average forgets the random initialisation quickly; with it, the first update copies G
(``images_seen`` = 0 gives beta = 0).

``images_seen`` counts the images of the G steps *before* the current one, as StyleGAN2-ADA's
``cur_nimg`` does when it updates G_ema (it adds the batch afterwards).

Buffers (BatchNorm running statistics): copied from G at every update, not averaged, as
StyleGAN2-ADA does (``b_ema.copy_(b)``) and as ``AveragedModel(use_buffers=False)`` does. The
running statistics estimate the activations of G's current weights; an average of them would
lag behind by the half-life, and an integer counter (``num_batches_tracked``) cannot be
averaged. Neither choice is exact for the averaged weights; the exact one (recomputing the
statistics through the average, ``torch.optim.swa_utils.update_bn``) costs a pass over inputs
and can be done before an evaluation if it matters.

Built on ``torch.optim.swa_utils.AveragedModel``: its ``multi_avg_fn`` gets only the number of
updates, so the per-step beta (which depends on the images seen) is computed in ``update`` and
read by the averaging function. The state (the average, G's buffers, ``n_averaged``,
``images_seen``) is in ``state_dict`` for an exact resume.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from lit_gan.errors import SettingError

# stylegan2-ada-pytorch training_loop(): ema_kimg = 10 (also its 'stylegan2' and 'paper1024'
# configs); its 'auto' config (small runs) sets ema_kimg = batch * 10 / 32 with ema_rampup = 0.05.
HALF_LIFE_IMAGES = 10_000
RAMPUP = 0.05  # stylegan2-ada-pytorch train.py, cfg 'auto' and 'cifar': ramp=0.05


def ema_beta(batch_size: int, images_seen: int, half_life_images: float, rampup: float | None) -> float:
    """The per-step decay: the weight the average keeps after a step of ``batch_size`` images."""
    half_life = float(half_life_images)
    if rampup is not None:
        half_life = min(half_life, images_seen * rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


def check_ema_settings(half_life_images: float, rampup: float | None) -> None:
    """Refuse, in one line, a half-life or ramp-up that cannot average."""
    if not half_life_images > 0:  # also catches NaN
        raise SettingError(
            f"EMA half-life must be a positive number of images, got {half_life_images}; "
            f"StyleGAN2-ADA uses {HALF_LIFE_IMAGES} (ema_kimg=10)")
    if rampup is not None and not rampup > 0:
        raise SettingError(
            f"EMA ramp-up must be positive or None (no ramp-up), got {rampup}; StyleGAN2-ADA uses {RAMPUP}")


class GeneratorEMA(AveragedModel):
    """An averaged copy of a module (``self.module``), updated by ``update(model, batch_size)``.

    Starts as a copy of ``model`` (StyleGAN2-ADA: ``G_ema = copy.deepcopy(G)``), on the same
    device; its parameters do not require gradients (no optimizer and no DDP reduction sees
    them). Call ``update`` after each optimizer step of ``model`` with that step's batch size
    (global across ranks: G is the same on every rank, so is the average).
    """

    def __init__(self, model: nn.Module, half_life_images: float = HALF_LIFE_IMAGES,
                 rampup: float | None = RAMPUP) -> None:
        check_ema_settings(half_life_images, rampup)
        device = next(iter(model.parameters()), torch.empty(0)).device  # cpu: a parameterless model's fallback, only its device is read
        super().__init__(model, device=device, use_buffers=False)  # use_buffers=False: buffers copied (docstring)
        self.multi_avg_fn = self._lerp_toward_model
        self.module.requires_grad_(False)
        self.half_life_images = float(half_life_images)
        self.rampup = rampup
        self.register_buffer("images_seen", torch.tensor(0, dtype=torch.long, device=device))
        self.n_averaged.fill_(1)  # the deepcopy is the first "average": later updates lerp, never copy
        self._beta = 0.0

    def beta(self, batch_size: int) -> float:
        """The decay the next ``update`` with ``batch_size`` images will use."""
        return ema_beta(batch_size, int(self.images_seen), self.half_life_images, self.rampup)

    @torch.no_grad()
    def update(self, model: nn.Module, batch_size: int) -> None:
        """Move the average toward ``model`` after one of its steps of ``batch_size`` images."""
        if batch_size < 1:
            raise ValueError(f"EMA update needs the step's batch size (>= 1 images), got {batch_size}")
        self._beta = self.beta(batch_size)
        self.update_parameters(model)
        self.images_seen += batch_size

    def _lerp_toward_model(self, averaged: list[Tensor], current: list[Tensor], _n_averaged: Tensor) -> None:
        """AveragedModel's multi_avg_fn: ``averaged <- beta * averaged + (1 - beta) * current``."""
        if torch.is_floating_point(averaged[0]) or torch.is_complex(averaged[0]):
            torch._foreach_lerp_(averaged, current, 1.0 - self._beta)
        else:  # integer parameters are rare; keep the source's value
            for a, c in zip(averaged, current, strict=True):
                a.copy_(c)


def averaged_state_dict(model_state: dict[str, Tensor], prefix: str) -> dict[str, Tensor] | None:
    """The average's weights and buffers, keyed as the raw module's, from the state dict of a
    model that holds a ``GeneratorEMA`` at ``prefix`` (e.g. ``"generator_ema."``); None when the
    run kept no average. What generate / evaluate load into a fresh G to read the average."""
    inner = f"{prefix}module."
    state = {key[len(inner):]: value for key, value in model_state.items() if key.startswith(inner)}
    return state or None
