"""The registry's ``paired`` metric: an image-to-image model's pixel scores (pix2pix: L1 / PSNR /
SSIM against the targets; CycleGAN: cycle L1) of the same translations every other metric of
the evaluation reads. The scores are the model's own (``paired_scores`` / ``update_paired``, as
its val / test step, lit_gan.models.paired_scores); the evaluation's one pass over the split
feeds them batch by batch (lit_gan.evaluation.run), each rank its shard, synced in compute()."""

from __future__ import annotations

from typing import Any

import torch

from lit_gan.errors import CommandError
from lit_gan.evaluation.translation import Translated
from lit_gan.models.paired_scores import score_values


def refusal(model) -> str | None:
    """Why ``model`` (a model or its class) has no paired scores, or None."""
    if model is None or not hasattr(model, "update_paired"):
        return "paired compares translations with their targets: evaluate an image-to-image checkpoint"
    return None


class PairedScores:
    """Fed each ``Translated`` batch of this rank's shard; ``result()`` on every rank."""

    def __init__(self, ctx) -> None:
        model = getattr(ctx.source, "model", None)
        problem = refusal(model) or (None if hasattr(ctx.source, "translated") else refusal(None))
        if problem:
            raise CommandError(problem)
        self.model, self.direction, self.split = model, ctx.source.direction, ctx.protocol.split
        self.scores = model.paired_scores().to(model.device)

    def update(self, batch: Translated) -> None:
        with torch.no_grad():  # a CycleGAN's cycle translates again
            self.model.update_paired(self.scores, batch.inputs, batch.translations, batch.partners, self.direction)

    def result(self) -> tuple[dict[str, float], dict[str, Any]]:
        return score_values(self.scores), {"split": self.split, "images": "translations vs targets in [0, 1] (psnr, "
                                           "ssim), [-1, 1] (l1); cycle_l1: both domains there and back, in [-1, 1]"}
