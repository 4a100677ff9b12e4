"""mode_statistics and reverse_kl on hand-built samples (the callback: tests/callbacks/test_mode_coverage.py)."""

from __future__ import annotations

import math

import pytest
import torch

from lit_gan.data.toy import toy_modes
from lit_gan.metrics.modes import mode_statistics

RING = toy_modes("ring8")  # (8, 2), radius 2
STD = 0.02


def _at(mode_ids: list[int], per_mode: int, offset: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    pts = RING[torch.tensor(mode_ids)].repeat_interleave(per_mode, dim=0)
    return pts + torch.tensor(offset)


def test_all_samples_on_modes_all_covered():
    stats = mode_statistics(_at(list(range(8)), 25), RING, STD)
    assert stats["modes_covered"] == 8
    assert stats["high_quality_fraction"] == 1.0
    assert stats["mode_counts"] == [25] * 8
    assert stats["num_modes"] == 8 and stats["num_samples"] == 200


def test_samples_near_three_modes_cover_three():
    # 1 std off the mode: still high quality
    stats = mode_statistics(_at([0, 3, 5], 30, offset=(STD, 0.0)), RING, STD)
    assert stats["modes_covered"] == 3
    assert stats["mode_counts"] == [30, 0, 0, 30, 0, 30, 0, 0]
    assert stats["high_quality_fraction"] == 1.0


def test_samples_far_from_every_mode():
    far = torch.zeros(100, 2)  # the ring's centre: 2 away from every mode = 100 std
    stats = mode_statistics(far, RING, STD)
    assert stats["modes_covered"] == 0
    assert stats["high_quality_fraction"] == 0.0
    assert stats["mode_counts"] == [0] * 8


def test_boundary_just_inside_and_just_outside_three_std():
    # mode 0 is at (2, 0); move radially outward so mode 0 stays the nearest
    inside = _at([0], 20, offset=(3 * STD * 0.999, 0.0))
    outside = _at([0], 20, offset=(3 * STD * 1.001, 0.0))
    assert mode_statistics(inside, RING, STD)["high_quality_fraction"] == 1.0
    assert mode_statistics(inside, RING, STD)["modes_covered"] == 1
    assert mode_statistics(outside, RING, STD)["high_quality_fraction"] == 0.0
    assert mode_statistics(outside, RING, STD)["modes_covered"] == 0


def test_min_count_threshold():
    samples = torch.cat([_at([0], 20), _at([1], 19), _at([2], 1)])
    assert mode_statistics(samples, RING, STD)["modes_covered"] == 1  # default 20
    assert mode_statistics(samples, RING, STD, min_count=19)["modes_covered"] == 2
    assert mode_statistics(samples, RING, STD, min_count=1)["modes_covered"] == 3  # VEEGAN rule


def test_mixed_quality_fraction_and_nan_samples():
    good = _at([2], 30)
    bad = torch.tensor([[0.0, 0.0]] * 9 + [[float("nan"), 1.0]])
    stats = mode_statistics(torch.cat([good, bad]), RING, STD)
    assert stats["high_quality_fraction"] == pytest.approx(30 / 40)
    assert stats["modes_covered"] == 1


def test_precision_far_from_origin():
    # points 2.9 std from modes at distance ~1e3: float32 matmul distances would blur this
    modes = torch.tensor([[1000.0, 1000.0], [-1000.0, 1000.0]])
    pts = modes[:1].repeat(20, 1).double() + torch.tensor([0.0, 2.9 * 0.01], dtype=torch.float64)
    assert mode_statistics(pts, modes, 0.01, min_count=20)["modes_covered"] == 1


# ---- reverse KL (PacGAN, Lin et al. 2018, Table 1): KL(HQ mode histogram || uniform) ----


def test_reverse_kl_uniform_spread_is_zero():
    assert mode_statistics(_at(list(range(8)), 25), RING, STD)["reverse_kl"] == pytest.approx(0.0, abs=1e-12)


def test_reverse_kl_one_mode_is_log_k():
    # p = (1, 0, ..., 0): 1 * log(1 * 8) = log 8
    assert mode_statistics(_at([3], 40), RING, STD)["reverse_kl"] == pytest.approx(math.log(8))


def test_reverse_kl_two_modes_by_hand():
    # p = (3/4, 1/4, 0, ...): 3/4 log(3/4 * 8) + 1/4 log(1/4 * 8) = 3/4 log 6 + 1/4 log 2
    stats = mode_statistics(torch.cat([_at([0], 30), _at([1], 10)]), RING, STD)
    assert stats["reverse_kl"] == pytest.approx(0.75 * math.log(6) + 0.25 * math.log(2))
    # an even split over 2 of 8 modes: log(8 / 2)
    assert mode_statistics(_at([0, 5], 10), RING, STD)["reverse_kl"] == pytest.approx(math.log(4))


def test_reverse_kl_counts_only_high_quality_samples():
    # 20 HQ points in each of modes 0 and 1, plus 200 far ones that would skew any histogram
    # of all samples: the HQ histogram is an even 2-mode split
    samples = torch.cat([_at([0, 1], 20), torch.zeros(200, 2), _at([2], 1, offset=(10 * STD, 0.0))])
    assert mode_statistics(samples, RING, STD)["reverse_kl"] == pytest.approx(math.log(4))


def test_reverse_kl_without_high_quality_samples_is_the_worst_value():
    far = mode_statistics(torch.zeros(50, 2), RING, STD)
    collapsed = mode_statistics(_at([0], 50), RING, STD)
    assert far["high_quality_fraction"] == 0.0
    assert far["reverse_kl"] == pytest.approx(math.log(8)) == collapsed["reverse_kl"]
    grid = toy_modes("grid25")
    assert mode_statistics(torch.full((5, 2), 100.0), grid, 0.05)["reverse_kl"] == pytest.approx(math.log(25))


def test_reverse_kl_is_log_k_minus_the_entropy_of_coverage():
    # PacGAN's MetricLogger logs H(p) ("entropy of coverage", natural log); KL(p || u) = log K - H(p)
    samples = torch.cat([_at([0], 7), _at([2], 3), _at([4], 11), _at([7], 1)])
    stats = mode_statistics(samples, RING, STD, min_count=1)
    p = torch.tensor(stats["mode_counts"], dtype=torch.float64) / sum(stats["mode_counts"])
    entropy = float(-(p[p > 0] * p[p > 0].log()).sum())
    assert stats["reverse_kl"] == pytest.approx(math.log(8) - entropy)
    assert stats["reverse_kl"] > 0


@pytest.mark.parametrize(
    "samples, modes, std, min_count, match",
    [
        (torch.zeros(5, 3), RING, STD, 20, "same D"),
        (torch.zeros(0, 2), RING, STD, 20, "at least one sample"),
        (torch.zeros(5, 2), RING, 0.0, 20, "std"),
        (torch.zeros(5, 2), RING, STD, 0, "min_count"),
    ],
)
def test_bad_inputs(samples, modes, std, min_count, match):
    with pytest.raises(ValueError, match=match):
        mode_statistics(samples, modes, std, min_count)


# ---- the callback, driven by a real Trainer ----------------------------------------
