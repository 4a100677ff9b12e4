"""Sampling with batch statistics asks no other rank: a SyncBatchNorm (``--trainer.sync_batchnorm
true``) runs as a plain BatchNorm on the batch being generated. Pictures are drawn on rank 0
alone, where an all-reduce would wait forever for the other ranks."""

from __future__ import annotations

import copy

import torch
from torch import nn

from tests.models.test_pix2pix import batch, tiny
from tests.models.test_sample_mode import _buffers, _dcgan


def _as_if_two_ranks(monkeypatch) -> list[str]:
    """torch.distributed says 2 ranks are up, and records whatever asks it."""
    asked: list[str] = []
    for name, value in (("is_initialized", True), ("get_world_size", 2)):
        monkeypatch.setattr(torch.distributed, name, lambda *a, _n=name, _v=value, **k: (asked.append(_n), _v)[1])
    return asked


def test_batch_stats_sampling_with_sync_batchnorm_runs_no_collective(monkeypatch):
    model = _dcgan(sample_mode="batch_stats", sample_batch_size=4)
    plain = copy.deepcopy(model)
    model.generator = nn.SyncBatchNorm.convert_sync_batchnorm(model.generator)
    assert any(isinstance(m, nn.SyncBatchNorm) for m in model.generator.modules())
    z = model.noise(8, torch.Generator().manual_seed(1))
    before = _buffers(model)
    asked = _as_if_two_ranks(monkeypatch)
    out = model.generate(z)
    assert asked == []
    torch.testing.assert_close(out, plain.generate(z))  # each group of 4 on its own statistics
    assert all(torch.equal(before[k], v) for k, v in _buffers(model).items())
    assert all("forward" not in m.__dict__ for m in model.generator.modules())  # SyncBatchNorm's forward is back


def test_paper_inference_with_sync_batchnorm_runs_no_collective(monkeypatch):
    torch.manual_seed(0)
    model = tiny()
    plain = copy.deepcopy(model)
    model.generator = nn.SyncBatchNorm.convert_sync_batchnorm(model.generator)
    x = batch(2)[1]
    asked = _as_if_two_ranks(monkeypatch)
    out = model.translate(x)
    assert asked == []
    torch.testing.assert_close(out, plain.translate(x))
