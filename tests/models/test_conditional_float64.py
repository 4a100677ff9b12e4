"""Class weights are checked without float64 (Apple GPUs have none)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.dtype_helpers import Float64Ops
from tests.models.test_conditional import K, _model


def test_class_weights_are_checked_without_float64():
    torch.manual_seed(0)
    model = _model()
    z, labels = model.noise(3), torch.tensor([0, 1, 3])
    with Float64Ops() as seen:
        x = model.generate(z, nn.functional.one_hot(labels, K).float())
    assert seen.ops == []
    assert torch.equal(x, model.generate(z, labels))
    with pytest.raises(ValueError, match="row 0"), Float64Ops() as seen:  # the check still bites
        model.generate(z[:1], torch.tensor([[0.5, 0.5 + 2e-4, 0.0, 0.0]]))
    assert seen.ops == []
