"""The registry's ``paired`` metric: L1 / PSNR / SSIM of an image-to-image model's
translations of the test split against their targets, by the model's own ``test_step``."""

from __future__ import annotations

from typing import Any

from lit_gan.errors import CommandError


def paired_metric(ctx) -> tuple[dict[str, float], dict[str, Any]]:
    import lightning as L

    model = getattr(ctx.source, "model", None)
    if model is None or not hasattr(model, "translate"):
        raise CommandError("paired compares translations with their targets: evaluate an image-to-image checkpoint")
    trainer = L.Trainer(accelerator="cpu" if model.device.type == "cpu" else "auto", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    (logged,) = trainer.test(model, datamodule=ctx.datamodule, verbose=False)
    values = {key.removeprefix("test/"): float(value) for key, value in logged.items()}
    return values, {"split": "test", "images": "translations vs targets in [0, 1]"}
