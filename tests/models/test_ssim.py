"""lit_gan.models.ssim.SSIM gives torchmetrics' SSIM (its own update is the oracle)."""

from __future__ import annotations

import pytest
import torch
from torchmetrics.image import StructuralSimilarityIndexMeasure

from lit_gan.models.ssim import SSIM


@pytest.mark.parametrize("shape,dtype", [((5, 3, 32, 32), torch.float32), ((4, 1, 28, 28), torch.float32),
                                         ((3, 3, 17, 40), torch.float64), ((2, 3, 64, 64), torch.float32)])
def test_equals_torchmetrics_per_image_and_over_batches(shape, dtype):
    g = torch.Generator().manual_seed(0)
    target = torch.rand(shape, generator=g, dtype=dtype)
    preds = (target + 0.4 * torch.rand(shape, generator=g, dtype=dtype) - 0.2).clamp(0, 1)
    ours, theirs = SSIM(data_range=1.0), StructuralSimilarityIndexMeasure(data_range=1.0)
    for i in range(shape[0]):  # one image per update: each image's value compared
        ours.update(preds[i : i + 1], target[i : i + 1])
        theirs.update(preds[i : i + 1], target[i : i + 1])
        assert float(ours.similarity) == pytest.approx(float(theirs.similarity), abs=1e-6)
    assert float(ours.compute()) == pytest.approx(float(theirs.compute()), abs=1e-6)
    assert float(ours.total) == float(theirs.total) == shape[0]


def test_other_settings_are_torchmetrics_own():
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(2, 3, 16, 16, generator=g), torch.rand(2, 3, 16, 16, generator=g)
    for kwargs in ({"gaussian_kernel": False}, {"reduction": "none"}, {}):  # {}: data_range from the images
        ours, theirs = SSIM(**kwargs), StructuralSimilarityIndexMeasure(**kwargs)
        ours.update(x, y)
        theirs.update(x, y)
        assert torch.equal(ours.compute(), theirs.compute()), kwargs
