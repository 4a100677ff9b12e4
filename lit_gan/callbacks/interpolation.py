"""Walks through latent space (Radford et al. 2015, sec. 6.1: smooth transitions mean G
has not memorised images), and, for a class-conditional model, between classes.

``lerp`` is the straight line; ``slerp`` follows the great circle (White 2016,
"Sampling Generative Networks"), which keeps Gaussian z at a typical norm, where a
straight line between two high-dimensional Gaussian samples passes near the origin.

- :class:`LatentInterpolation` (``interpolation/``): row r walks z0 -> z1; a conditional
  model keeps row r's label fixed at class r % K (a walk within a class).
- :class:`ClassInterpolation` (``interpolation_classes/``, conditional models only): row r
  keeps one z and walks the class weights from class r % K to class (r + 1) % K
  (lit_gan.nets.label_input: every conditional G reads a mix of classes). With the same
  ``seed`` its z are the z0 of LatentInterpolation's rows, so both pictures start alike.

Two callbacks, not one writing two files: a PeriodicPicture is one picture (one folder, one
logger key, one ``render``), and the class walk is its own picture that a run may want at
its own cadence, or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from lit_gan.callbacks.periodic import PeriodicPicture, save_png, to_uint8_grid
from lit_gan.evaluation.sampling import label_plan


def lerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    """z0, z1 (N, D), t (T,) -> (N, T, D)."""
    t = t.view(1, -1, 1)
    return (1 - t) * z0.unsqueeze(1) + t * z1.unsqueeze(1)


def slerp(z0: Tensor, z1: Tensor, t: Tensor, eps: float = 1e-7) -> Tensor:
    """Spherical interpolation; falls back to lerp where z0 and z1 are (anti)parallel."""
    cos = (z0 * z1).sum(1) / (z0.norm(dim=1) * z1.norm(dim=1)).clamp_min(eps)
    omega = cos.clamp(-1 + eps, 1 - eps).acos().view(-1, 1, 1)  # (N, 1, 1)
    t = t.view(1, -1, 1)
    so = omega.sin()
    out = (((1 - t) * omega).sin() * z0.unsqueeze(1) + (t * omega).sin() * z1.unsqueeze(1)) / so
    return torch.where(so.abs() < 1e-3, lerp(z0, z1, t.flatten()), out)  # sin(acos(1 - eps)) ~ 4.5e-4


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp}


def interpolation_images(model, rows: int, steps: int, method: str, generator: torch.Generator) -> Tensor:
    """rows x steps images walking from one random z to another; (rows * steps, C, H, W).

    A class-conditional model (``num_classes`` K) draws row r at class r % K throughout.
    """
    if method not in INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {method!r}; choose lerp or slerp")
    z0, z1 = model.noise(rows, generator), model.noise(rows, generator)
    t = torch.linspace(0, 1, steps, device=z0.device)
    z = INTERPOLATIONS[method](z0, z1, t).reshape(rows * steps, -1)
    plan = label_plan(model)  # None: unconditional
    if plan is None:
        return model.generate(z)
    return model.generate(z, plan.labels(range(rows)).repeat_interleave(steps))  # row r: class r % K


def class_walk_weights(num_classes: int, rows: int, steps: int) -> Tensor:
    """Class weights (rows * steps, K): row r goes from one-hot(r % K) to one-hot((r + 1) % K)
    in ``steps`` even steps; the ends are exactly one-hot."""
    # cpu: class weights, moved by the model's check_labels
    eye = torch.eye(num_classes)
    start = torch.arange(rows) % num_classes  # cpu: class weights, moved by the model's check_labels
    a, b = eye[start], eye[(start + 1) % num_classes]  # (rows, K) each
    t = torch.linspace(0, 1, steps).view(1, -1, 1)  # cpu: class weights, moved by the model's check_labels; (1, steps, 1)
    return ((1 - t) * a.unsqueeze(1) + t * b.unsqueeze(1)).reshape(rows * steps, num_classes)


def class_interpolation_images(model, rows: int, steps: int, generator: torch.Generator) -> Tensor:
    """rows x steps images of a conditional model: row r holds one random z (the first draw of
    ``generator``, as interpolation_images' z0) and walks from class r % K to (r + 1) % K."""
    num_classes = getattr(model, "num_classes", None)
    if not num_classes:
        raise ValueError(f"{type(model).__name__} is unconditional: it has no classes to walk between")
    z = model.noise(rows, generator).repeat_interleave(steps, dim=0)  # (rows * steps, D)
    return model.generate(z, class_walk_weights(num_classes, rows, steps).to(z.device))


class LatentInterpolation(PeriodicPicture):
    """Writes ``interpolation/iter_XXXXXXX.png``: each row walks between two fixed z (a
    conditional model: at the fixed class r % K on row r)."""

    folder = key = "interpolation"

    def __init__(self, every_n_iterations: int = 0, rows: int = 8, steps: int = 10,
                 method: Literal["lerp", "slerp"] = "slerp", seed: int = 1) -> None:
        """every_n_iterations: 0 = only at the end of fit."""
        super().__init__(every_n_iterations)
        if method not in INTERPOLATIONS:
            raise ValueError(f"Unknown interpolation {method!r}; choose lerp or slerp")
        self.rows, self.steps, self.method, self.seed = rows, steps, method, seed

    def render(self, trainer, pl_module, path: Path) -> bool:
        if len(pl_module.data_shape) != 3:
            return False  # nothing to picture for 2-D data
        images = interpolation_images(pl_module, self.rows, self.steps, self.method, torch.Generator().manual_seed(self.seed))
        save_png(to_uint8_grid(images, nrow=self.steps), path)
        return True


class ClassInterpolation(PeriodicPicture):
    """Writes ``interpolation_classes/iter_XXXXXXX.png`` for a class-conditional model: row r
    keeps one z and walks from class r % K to class (r + 1) % K over ``steps`` columns.
    Writes nothing for an unconditional model or 2-D data."""

    folder = key = "interpolation_classes"

    def __init__(self, every_n_iterations: int = 0, rows: int = 10, steps: int = 10, seed: int = 1) -> None:
        """every_n_iterations: 0 = only at the end of fit. rows: 10 = every class once on
        10-class data (row r starts at class r % K). seed: LatentInterpolation's default, so
        row r's z is the z0 of its row r."""
        super().__init__(every_n_iterations)
        if rows < 1 or steps < 2:
            raise ValueError(f"rows must be >= 1 and steps >= 2, got rows={rows}, steps={steps}")
        self.rows, self.steps, self.seed = rows, steps, seed

    def render(self, trainer, pl_module, path: Path) -> bool:
        if len(pl_module.data_shape) != 3 or not getattr(pl_module, "num_classes", None):
            return False
        images = class_interpolation_images(pl_module, self.rows, self.steps, torch.Generator().manual_seed(self.seed))
        save_png(to_uint8_grid(images, nrow=self.steps), path)
        return True
