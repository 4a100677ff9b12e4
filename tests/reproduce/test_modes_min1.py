"""The ring-of-8 table counts modes two ways: ours (>= 20 high-quality samples) and VEEGAN's
(>= 1), and quotes VEEGAN's numbers beside the second only."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from lit_gan.reproduce import evaluations
from lit_gan.reproduce.report import RowResult, results_table
from lit_gan.reproduce.table import load_table

REPO = Path(__file__).resolve().parents[2]


def test_mode_coverage_reports_both_counts_of_the_same_samples(monkeypatch, tmp_path):
    modes = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0]])
    # 25 points on mode 0, 3 on mode 1, one far from every mode: 1 mode at >= 20, 2 at >= 1
    points = np.concatenate([np.tile([2.0, 0.0], (25, 1)), np.tile([0.0, 2.0], (3, 1)), [[9.0, 9.0]]])
    monkeypatch.setattr(evaluations, "_checkpoint_datamodule", lambda ckpt: SimpleNamespace(modes=modes, mode_std=0.02))
    monkeypatch.setattr("lit_gan.commands.compare_losses.evaluate_run",
                        lambda ckpt, dm, min_count: (points.astype(np.float32),
                                                     {"modes_covered": 1, "num_modes": 3,
                                                      "high_quality_fraction": 28 / 29}))
    found = evaluations.evaluate_checkpoint(tmp_path / "x.ckpt", {"metrics": "modes"}, 1, tmp_path)
    assert found["metrics"]["modes_covered"] == 1 and found["metrics"]["modes_covered_min1"] == 2
    assert found["protocol"]["modes"]["min_count"] == 20 and "modes_covered_min1" in found["protocol"]["modes"]


def test_veegan_rows_sit_in_the_min1_column_only(monkeypatch):
    monkeypatch.chdir(REPO)
    table = load_table(REPO / "experiments/toy/ring8.yaml")
    quoted = {r.name: r.paper for r in table.rows if r.kind == "context"}
    assert quoted and all("modes_covered" not in p and "modes_covered_min1" in p for p in quoted.values())
    runs = [RowResult(r, values=[{"modes_covered": 6, "modes_covered_min1": 8, "high_quality_fraction": 0.5}])
            for r in table.rows]
    head = results_table(table, runs).splitlines()[0]
    assert head.startswith("| row | modes covered (of 8) ↑ | modes covered, >= 1 point (VEEGAN's count) ↑ paper |")
