"""A fixture that records global RNG seeding (import it into a test module to use it)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def seeding_calls(monkeypatch):
    """Records every global seeding: torch.manual_seed re-seeds every CUDA device through
    torch.cuda.manual_seed_all, which a CPU machine can see happen only this way."""
    calls = []
    for module, name in ((torch, "manual_seed"), (torch.cuda, "manual_seed_all"), (torch.cuda, "manual_seed")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k))[1])
    return calls
