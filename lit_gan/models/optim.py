"""Optimizers and learning-rate schedules from plain hyperparameters.

Models keep optimizer settings as numbers and strings (so checkpoints never pickle
callables) and build the torch objects here.
"""

from __future__ import annotations

from typing import Iterable, Literal

import torch
from torch import nn

OptimizerName = Literal["adam", "sgd", "rmsprop"]
ScheduleName = Literal["constant", "exponential", "linear_decay"]


def build_optimizer(
    params: Iterable[nn.Parameter],
    name: OptimizerName,
    lr: float,
    betas: tuple[float, float] = (0.5, 0.999),
    momentum: float = 0.0,
) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas))
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum)
    raise ValueError(f"Unknown optimizer {name!r}; choose adam, sgd or rmsprop")


def optimizer_problem(name: OptimizerName, lr: float, betas: tuple[float, float] = (0.5, 0.999),
                      momentum: float = 0.0) -> str | None:
    """Why torch would refuse these settings (None: it accepts them). Asked when a model is
    built, so a bad setting stops the run before it starts, not at ``configure_optimizers``."""
    try:
        build_optimizer([nn.Parameter(torch.zeros(1))], name, lr, betas, momentum)  # cpu: a probe parameter: asks torch whether it accepts the settings
    except ValueError as err:
        return str(err)
    return None


def build_schedule(
    optimizer: torch.optim.Optimizer,
    name: ScheduleName,
    lr_decay: float = 1.000004,
    min_lr: float = 1e-6,
    constant_epochs: int = 100,
    decay_epochs: int = 100,
) -> dict | None:
    """A Lightning scheduler config (``interval`` says when the training step steps it).

    - ``constant``: no schedule.
    - ``exponential``: lr / lr_decay**t per generator iteration, floored at min_lr
      (Goodfellow et al. 2014's mnist.yaml: decay_factor 1.000004, min_lr 1e-6).
    - ``linear_decay``: constant for ``constant_epochs``, then linearly to zero over
      ``decay_epochs`` (Isola et al. 2017 / Zhu et al. 2017: 100 + 100 epochs).
    """
    if name == "constant":
        return None
    base_lr = optimizer.param_groups[0]["lr"]
    if name == "exponential":
        if lr_decay < 1.0:
            raise ValueError(f"lr_decay divides the lr each iteration and must be >= 1, got {lr_decay}")
        floor = min(1.0, min_lr / base_lr)
        sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: max(lr_decay ** (-t), floor))
        return {"scheduler": sched, "interval": "step"}
    if name == "linear_decay":
        def factor(epoch: int) -> float:
            return 1.0 - max(0, epoch + 1 - constant_epochs) / float(decay_epochs + 1)

        return {"scheduler": torch.optim.lr_scheduler.LambdaLR(optimizer, factor), "interval": "epoch"}
    raise ValueError(f"Unknown lr_schedule {name!r}; choose constant, exponential or linear_decay")


def ramped_momentum(epoch: int, start: float, final: float, ramp_epochs: int) -> float:
    """Linear momentum ramp (Goodfellow et al. 2014's MomentumAdjustor: 0.5 -> 0.7 over 250 epochs)."""
    if ramp_epochs <= 0:
        return final
    return start + (final - start) * min(1.0, epoch / ramp_epochs)
