"""The pixel scores of image-to-image models, one definition for the models' val / test steps
and ``evaluate --metrics paired`` (lit_gan.evaluation.paired): name -> torchmetrics Metric.

pix2pix: ``l1`` of translations vs targets in [-1, 1] (the training's L1 term; torchmetrics'
MeanAbsoluteError, the mean over every pixel of the split); ``psnr`` and ``ssim`` in [0, 1]
with the translation clamped: torchmetrics' PeakSignalNoiseRatio (of the squared error summed
over the split) and StructuralSimilarityIndexMeasure (Gaussian 11x11, sigma 1.5, mean over
images; computed faster, lit_gan.models.ssim). CycleGAN: ``cycle_l1``, the mean of the two cycles' L1 (A -> B -> A vs A and
B -> A -> B vs B), each over every pixel of its domain.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.image import PeakSignalNoiseRatio
from torchmetrics.regression import MeanAbsoluteError

from lit_gan.models.ssim import SSIM


def to_unit(x: Tensor) -> Tensor:
    return (x + 1) / 2


def translation_scores() -> nn.ModuleDict:
    return nn.ModuleDict({"l1": MeanAbsoluteError(), "psnr": PeakSignalNoiseRatio(data_range=1.0),
                          "ssim": SSIM(data_range=1.0)})


def update_translation_scores(scores: nn.ModuleDict, translations: Tensor, targets: Tensor) -> None:
    # forward, not update: it rebuilds the states out of place, so states reset under a test
    # loop's inference mode do not break the next fit's validation (update adds in place)
    scores["l1"](translations, targets)
    unit_fake, unit_target = to_unit(translations.clamp(-1, 1)), to_unit(targets)
    scores["psnr"](unit_fake, unit_target)
    scores["ssim"](unit_fake, unit_target)


class CycleL1(Metric):
    """0.5 * (mean |rec_a - a| + mean |rec_b - b|), each mean over all pixels seen."""

    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        for side in ("a", "b"):
            self.add_state(f"sum_{side}", default=torch.zeros(()), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric
            self.add_state(f"n_{side}", default=torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")  # cpu: a metric state, moved with the metric

    def update(self, rec_a: Tensor, real_a: Tensor, rec_b: Tensor, real_b: Tensor) -> None:
        # not in place: states reset under a test loop's inference mode are inference tensors
        self.sum_a = self.sum_a + (rec_a - real_a).abs().sum()
        self.n_a = self.n_a + real_a.numel()
        self.sum_b = self.sum_b + (rec_b - real_b).abs().sum()
        self.n_b = self.n_b + real_b.numel()

    def compute(self) -> Tensor:
        return 0.5 * (self.sum_a / self.n_a + self.sum_b / self.n_b)


def cycle_scores() -> nn.ModuleDict:
    return nn.ModuleDict({"cycle_l1": CycleL1()})


def score_values(scores: nn.ModuleDict) -> dict[str, float]:
    """Every rank calls this: each Metric's compute() syncs over the processes."""
    return {name: float(metric.compute()) for name, metric in scores.items()}
