"""Divergence: a non-finite (or, optionally, too large) loss or gradient stops the run.

A GAN whose losses turn NaN trains on silently otherwise: its weights become NaN, the next
``last.ckpt`` holds them and ``generate`` writes NaN samples. ``check_update`` runs after each
backward pass and before the optimizer step (one host sync per optimizer step, and under DDP
one tiny all-reduce so that every rank takes the same verdict), so the weights that reach a
checkpoint are those of the last good step.

Policies (``--divergence.action``): ``stop`` (default) raises ``Diverged`` with the iteration,
the net, the loss and the usual causes; the process exits with ``EXIT_DIVERGED``. ``skip``
drops that optimizer step (its gradients are discarded) and counts it in
``train/skipped_steps``; training goes on, until ``max_skips`` updates of one net in a row
were skipped: that net no longer trains (NaN weights or a broken optimizer state make every
later update non-finite too) and the run stops with ``Diverged`` instead of ending "successfully"
with frozen weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

import torch
from torch import Tensor

from lit_gan import distributed

EXIT_DIVERGED = 3  # distinct from 1 (a crash) and 2 (a user error): "the run diverged"

USUAL_CAUSES = ("usual causes: a learning rate too high for this loss, fp16 ('16-mixed') overflow (use "
                "bf16-mixed or 32), a gradient penalty under fp16, or an unbounded critic (WGAN without clipping "
                "or penalty)")
CAUSES = (f"{USUAL_CAUSES}. Resume from the last checkpoint with a lower learning rate, or pass "
          "--divergence.action skip to drop such steps and go on")
SKIP_CAUSES = (f"its weights no longer change; {USUAL_CAUSES}. Resume from the last checkpoint with a lower "
               "learning rate, or raise --divergence.max_skips if such runs do recover")


class Diverged(RuntimeError):
    """The run diverged; the message names where and how. Exit code ``EXIT_DIVERGED``."""

    exit_code = EXIT_DIVERGED


@dataclass(frozen=True)
class DivergencePolicy:
    action: Literal["stop", "skip"] = "stop"
    max_loss: float | None = None  # a finite loss above this also counts as divergence
    # skip: stop after this many skipped updates of one net in a row. A transient overflow is
    # over within a few updates; 100 in a row (e.g. 20 WGAN iterations of 5 critic steps) is a net
    # that has stopped training, found long before a CPU or GPU run would end on its own.
    max_skips: int = 100

    def __post_init__(self) -> None:
        if self.action not in ("stop", "skip"):
            raise ValueError(f"divergence action must be 'stop' or 'skip', got {self.action!r}")
        if self.max_loss is not None and not self.max_loss > 0:
            raise ValueError(f"divergence max_loss must be positive or null, got {self.max_loss}")
        if isinstance(self.max_skips, bool) or not isinstance(self.max_skips, int) or self.max_skips < 1:
            raise ValueError(f"divergence max_skips (skipped updates in a row before the run stops) must be an "
                             f"integer >= 1, got {self.max_skips!r}")


def _reduce_flags(flags: Tensor) -> Tensor:
    """Every rank must take the same decision: a rank's loss may be non-finite or exceed the
    bound alone (a NaN term without parameters leaves DDP's all-reduced gradients finite)."""
    return distributed.max_over_ranks(flags)


def gradient_norm(params: Iterable[Tensor]) -> Tensor | None:
    """The L2 norm of the parameters' gradients together (one foreach kernel), None when none
    has a gradient. The training step computes it once per update for ``check_update`` and
    the logged ``train/grad_norm_*``."""
    grads = [p.grad for p in params if p.grad is not None]
    return torch.stack(torch._foreach_norm(grads)).float().norm() if grads else None


def check_update(loss: Tensor, grad_norm: Tensor | None, policy: DivergencePolicy) -> str | None:
    """Why this update must not be applied (non-finite loss / gradient, loss above the
    bound), or None. Call after backward, before the optimizer step, with the update's
    ``gradient_norm`` (None: judge the loss only, as under fp16's loss scaler)."""
    grads = grad_norm is not None
    loss = loss.detach().float()
    grad_norm = grad_norm if grads else loss.new_zeros(())
    too_large = loss > policy.max_loss if policy.max_loss is not None else loss.new_zeros((), dtype=torch.bool)
    here = torch.stack([~torch.isfinite(loss), ~torch.isfinite(grad_norm), too_large]).float()
    # One tiny all-reduce per update, always: the verdict must be the same on every rank, or one
    # rank raises (or skips) while the others wait in their next collective.
    flags = torch.cat([_reduce_flags(here), here]).tolist()  # the one host sync
    agreed, mine = flags[:3], flags[3:]
    if not any(agreed):
        return None
    other = "on another rank"
    if agreed[0]:
        return f"the loss is {loss.item()}" if mine[0] else f"the loss is not finite {other} (here {loss.item():.4g})"
    if agreed[1]:
        norm = f"the gradient norm is {grad_norm.item()}" if mine[1] else f"the gradient norm is not finite {other}"
        return f"{norm} (loss {loss.item():.4g})"
    if mine[2]:
        return f"the loss {loss.item():.4g} exceeds --divergence.max_loss {policy.max_loss}"
    return f"the loss {other} exceeds --divergence.max_loss {policy.max_loss} (here {loss.item():.4g})"


def first_non_finite_tensor(state_dict: dict) -> str | None:
    """The name of the first floating-point tensor of a state dict (a module's, or a
    checkpoint's) holding NaN or inf, or None."""
    for name, tensor in state_dict.items():
        if isinstance(tensor, Tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            return name
    return None
