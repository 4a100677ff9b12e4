"""The ring-of-8 table counts modes two ways: ours (>= 20 high-quality samples) and VEEGAN's
(>= 1), and quotes VEEGAN's numbers beside the second only."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from lit_gan.evaluation.features import Protocol
from lit_gan.evaluation.run import SampleContext, run_sample_metric
from lit_gan.evaluation.sources import Source
from lit_gan.reproduce.report import RowResult, results_table
from lit_gan.reproduce.table import load_table

REPO = Path(__file__).resolve().parents[2]


class PointsSource(Source):
    def __init__(self, points: torch.Tensor) -> None:
        self.points, self.num = points, len(points)

    def float_batches(self, rows, batch_size):
        return self.points[rows.start : rows.stop].split(batch_size)


def test_mode_coverage_reports_both_counts_of_the_same_samples():
    modes = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0]])
    # 25 points on mode 0, 3 on mode 1, one far from every mode: 1 mode at >= 20, 2 at >= 1
    points = np.concatenate([np.tile([2.0, 0.0], (25, 1)), np.tile([0.0, 2.0], (3, 1)), [[9.0, 9.0]]])
    ctx = SampleContext(PointsSource(torch.from_numpy(points).float()), SimpleNamespace(modes=modes, mode_std=0.02),
                        Protocol(["modes"], num_samples=len(points)))
    values, card = run_sample_metric("modes", ctx)
    assert values["modes_covered"] == 1 and values["modes_covered_min1"] == 2
    assert values["high_quality_fraction"] == 28 / 29 and values["num_modes"] == 3
    assert card["min_count"] == 20 and "modes_covered_min1" in card and card["samples"] == 29


def test_veegan_rows_sit_in_the_min1_column_only(monkeypatch):
    monkeypatch.chdir(REPO)
    table = load_table(REPO / "experiments/toy/ring8.yaml")
    quoted = {r.name: r.paper for r in table.rows if r.kind == "context"}
    assert quoted and all("modes_covered" not in p and "modes_covered_min1" in p for p in quoted.values())
    runs = [RowResult(r, values=[{"modes_covered": 6, "modes_covered_min1": 8, "high_quality_fraction": 0.5}])
            for r in table.rows]
    head = results_table(table, runs).splitlines()[0]
    assert head.startswith("| row | modes covered (of 8) ↑ | modes covered, >= 1 point (VEEGAN's count) ↑ paper |")
