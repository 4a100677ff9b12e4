"""Finding layers in a net, for the tests that check an architecture's layout."""

from __future__ import annotations

from torch import nn


def modules_of(module: nn.Module, kind) -> list[nn.Module]:
    """Every submodule of ``module`` (itself included) that is a ``kind`` (a class or a tuple of them)."""
    return [m for m in module.modules() if isinstance(m, kind)]
