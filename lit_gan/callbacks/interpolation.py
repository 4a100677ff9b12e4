"""Walks through latent space (Radford et al. 2015, sec. 6.1: smooth transitions mean G
has not memorised images).

``lerp`` is the straight line; ``slerp`` follows the great circle (White 2016,
"Sampling Generative Networks"), which keeps Gaussian z at a typical norm, where a
straight line between two high-dimensional Gaussian samples passes near the origin.
"""

from __future__ import annotations

from typing import Literal

from pathlib import Path

import torch
from torch import Tensor

from lit_gan.callbacks.periodic import PeriodicPicture, save_png, to_uint8_grid


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
    """rows x steps images walking from one random z to another; (rows * steps, C, H, W)."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {method!r}; choose lerp or slerp")
    z0, z1 = model.noise(rows, generator), model.noise(rows, generator)
    t = torch.linspace(0, 1, steps, device=z0.device)
    z = INTERPOLATIONS[method](z0, z1, t).reshape(rows * steps, -1)
    return model.generate(z)


class LatentInterpolation(PeriodicPicture):
    """Writes ``interpolation/iter_XXXXXXX.png``: each row walks between two fixed z."""

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
