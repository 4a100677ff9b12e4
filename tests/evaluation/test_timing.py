"""The evaluation's stopwatch: exclusive seconds per part, nothing when none records."""

from __future__ import annotations

import time

import pytest

from lit_gan.evaluation import timing


def test_nested_sections_count_exclusively_and_generators_charge_their_own_time():
    def slow_items():
        for i in range(2):
            time.sleep(0.05)  # making an item: "forward"
            with timing.section("metric:paired"):
                time.sleep(0.03)  # fed on the way: the metric's, not forward's
            yield i

    with timing.recording() as watch:
        for _ in timing.timed_iter(slow_items(), "forward"):
            with timing.section("features"):
                time.sleep(0.02)
        with timing.recording() as inner:  # a nested recording is the same watch
            assert inner is watch
    card = watch.card()
    assert card["forward_s"] == pytest.approx(0.10, abs=0.03)
    assert card["metrics_s"]["paired"] == pytest.approx(0.06, abs=0.03)
    assert card["features_s"] == pytest.approx(0.04, abs=0.03)
    assert card["total_s"] >= card["forward_s"] + card["metrics_s"]["paired"] + card["features_s"]


def test_without_a_recording_sections_cost_nothing_and_record_nothing():
    with timing.section("forward"):
        pass
    assert list(timing.timed_iter(iter([1, 2]), "forward")) == [1, 2]
    with timing.recording() as watch:
        pass
    assert watch.card() == {"total_s": pytest.approx(0, abs=0.01), "metrics_s": {}}
