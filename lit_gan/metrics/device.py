"""Where metric arithmetic runs: on the device that made the features, in float64 where it has it.

Features stay on the extractor's device (a GPU box computes FID, KID, PRDC, intra-FID and
Parzen there, not on the CPU). Apple GPUs (MPS) have no float64: there features, metric
states and distances are float32, and the evaluation card says so (``card``).
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric

NO_FLOAT64 = frozenset({"mps"})  # device types without float64 arithmetic


def feature_dtype(device: str | torch.device) -> torch.dtype:
    """float64, or float32 on a device without float64 (MPS)."""
    return torch.float32 if torch.device(device).type in NO_FLOAT64 else torch.float64


def place(metric: Metric, device: str | torch.device) -> Metric:
    """``metric`` on ``device``, its float states in ``feature_dtype(device)`` (cast here,
    before the move: an MPS tensor can never hold float64). Integer counts keep their dtype,
    which torchmetrics' ``set_dtype`` would not do."""
    dtype = feature_dtype(device)
    if dtype != torch.float64:
        metric._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)
    return metric.to(device)


def card(device: str | torch.device) -> dict[str, Any]:
    """The card's note of where and in what precision features and metrics were computed."""
    device = torch.device(device)
    return {"device": device.type, "dtype": str(feature_dtype(device)).removeprefix("torch.")}
