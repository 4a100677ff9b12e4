"""Numbers from a run's training log (lit_gan.reproduce.logs) and the curves figure that draws
them (lit_gan.reproduce.curves), on metrics.csv files written in the CSVLogger's format."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from lit_gan.reproduce.curves import draw_curves
from lit_gan.reproduce.figure_spec import check_spec
from lit_gan.reproduce.logs import LogSpecError, LogValue, compute, log_values, parse_log_values, read_log
from lit_gan.reproduce.report import RowResult
from lit_gan.reproduce.table import Row

COLUMNS = ["epoch", "step", "train/d_fake", "train/iteration", "train/loss_d", "val/fid_2k", "val/loss_d"]


def write_log(run_dir: Path, rows: list[dict], version: int = 0) -> None:
    path = run_dir / f"version_{version}" / "metrics.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})


def training_rows(iterations, d_fake, loss_d, fid_every=None, fid=None):
    """One logged row per iteration (step = 2 optimizer steps per iteration, as 1 D : 1 G),
    a metrics-callback row every ``fid_every`` iterations, a validation row with no iteration."""
    rows, fids = [], iter(fid or [])
    for it, fake, loss in zip(iterations, d_fake, loss_d):
        rows.append({"epoch": 0, "step": 2 * it - 1, "train/iteration": it, "train/d_fake": fake, "train/loss_d": loss})
        if fid_every and it % fid_every == 0:
            rows.append({"step": 2 * it, "train/iteration": it, "val/fid_2k": next(fids)})
    rows.append({"epoch": 0, "step": 2 * iterations[-1], "val/loss_d": 0.5})
    return rows


def test_windows_and_means_read_the_iterations_the_rows_were_logged_at(tmp_path):
    its = list(range(1, 101))
    write_log(tmp_path, training_rows(its, [i / 100 for i in its], [1.0] * 100))
    series = read_log(tmp_path)
    assert [p[0] for p in series["train/d_fake"][:3]] == [1.0, 2.0, 3.0]
    assert series["val/loss_d"] == [(100.0, 200.0, 0.5)]  # no iteration of its own: the last one before it
    assert compute(LogValue("a", ("train/d_fake",), (1, 50)), series) == pytest.approx(np.mean(its[:50]) / 100)
    assert compute(LogValue("b", ("train/d_fake",), last=10), series) == pytest.approx(np.mean(its[90:]) / 100)
    assert compute(LogValue("c", ("train/d_fake",), (91, None)), series) == pytest.approx(np.mean(its[90:]) / 100)
    assert compute(LogValue("d", ("train/d_fake",)), series) == pytest.approx(np.mean(its) / 100)
    # a list of keys: the first the run logged (WGAN's estimate, else D's loss)
    assert compute(LogValue("e", ("train/wasserstein", "train/loss_d")), series) == 1.0
    assert compute(LogValue("f", ("train/wasserstein",)), series) is None
    assert compute(LogValue("g", ("train/d_fake",), (500, 600)), series) is None  # nothing in the window


def test_a_resumed_run_s_versions_are_read_in_order(tmp_path):
    write_log(tmp_path, training_rows([1, 2, 3], [0.1, 0.2, 0.3], [1, 1, 1]), version=0)
    write_log(tmp_path, training_rows([4, 5], [0.4, 0.5], [1, 1]), version=10)  # 10 after 0, not before 2
    write_log(tmp_path, training_rows([6], [0.6], [1]), version=2)
    values = [p[2] for p in read_log(tmp_path)["train/d_fake"]]
    assert values == [0.1, 0.2, 0.3, 0.6, 0.4, 0.5]


@pytest.mark.parametrize("stat, oracle", [("pearson", stats.pearsonr), ("spearman", stats.spearmanr)])
def test_the_signal_is_averaged_between_metric_points_and_correlated_with_them(tmp_path, stat, oracle):
    rng = np.random.default_rng(0)
    its = list(range(1, 201))
    loss = rng.normal(size=200)
    fid = list(rng.normal(size=8) * 10 + 50)
    write_log(tmp_path, training_rows(its, [0.5] * 200, list(loss), fid_every=25, fid=fid))
    windows = [loss[k * 25:(k + 1) * 25].mean() for k in range(8)]  # iterations (25k, 25(k+1)]
    expected = oracle(windows, fid)[0]
    got = log_values(read_log(tmp_path), {"r": LogValue("r", ("train/loss_d",), vs="val/fid_2k", stat=stat)})
    assert got["r"] == pytest.approx(expected, abs=1e-12)


def test_too_few_points_for_a_correlation_give_no_value(tmp_path):
    write_log(tmp_path, training_rows([1, 2, 3, 4], [0.5] * 4, [1.0, 2.0, 3.0, 4.0], fid_every=2, fid=[3.0, 1.0]))
    spec = {"r": LogValue("r", ("train/loss_d",), vs="val/fid_2k", stat="pearson")}
    assert log_values(read_log(tmp_path), spec) == {}  # 2 points: left out, the table shows "–"


@pytest.mark.parametrize("raw, message", [
    ({"a": {"iterations": [1, 2]}}, "needs `key`"),
    ({"a": {"key": "x", "stat": "median"}}, "stat must be one of"),
    ({"a": {"key": "x", "stat": "pearson"}}, "`vs`"),
    ({"a": {"key": "x", "vs": "y"}}, "`vs`"),
    ({"a": {"key": "x", "iterations": [1]}}, "iterations must be"),
    ({"a": {"key": "x", "last": 0}}, "last must be"),
    ({"a": {"key": "x", "last": 5, "iterations": [1, 2]}}, "not both"),
    ({"a": {"key": "x", "window": 5}}, "unknown keys"),
    (["a"], "must map names"),
])
def test_bad_log_values_are_refused_with_the_entry_named(raw, message):
    with pytest.raises(LogSpecError, match=message):
        parse_log_values(raw, "t.yaml")


def result(name: str, run_dirs: list[Path]) -> RowResult:
    return RowResult(Row(name=name, config="c.yaml"), values=[{}] * len(run_dirs), run_dirs=[str(d) for d in run_dirs])


def test_the_curves_figure_draws_each_row_and_its_samples(tmp_path):
    from PIL import Image

    dirs = []
    for seed in range(2):
        run = tmp_path / f"run{seed}"
        write_log(run, training_rows(list(range(1, 51)), [0.5 + seed / 10] * 50, [1.0] * 50, fid_every=10,
                                     fid=[50, 40, 30, 20, 10]))
        (run / "version_0" / "samples").mkdir()
        Image.new("L", (40, 40), 128).save(run / "version_0" / "samples" / "iter_0000050.png")
        dirs.append(run)
    spec = {"kind": "curves", "samples": True, "panels": [
        {"key": "train/d_fake", "smooth": 5}, {"key": "val/fid_2k", "x": "step", "twin": "train/loss_d"},
        {"key": "train/nothing", "rows": ["a"]}]}
    assert check_spec(spec, "t.yaml: figure", {"a", "b"}) is None
    path = draw_curves([result("a", dirs), result("b", dirs[:1]), result("quoted", [])], tmp_path / "f.png", spec)
    assert path is not None and Image.open(path).size[0] > 1000
    assert draw_curves([result("quoted", [])], tmp_path / "g.png", spec) is None  # no run: no figure


def test_sample_columns_wrap_many_rows_sample_grids_onto_several_lines(tmp_path):
    from PIL import Image

    run = tmp_path / "run"
    write_log(run, training_rows(list(range(1, 11)), [0.5] * 10, [1.0] * 10))
    (run / "version_0" / "samples").mkdir()
    Image.new("L", (40, 40), 128).save(run / "version_0" / "samples" / "iter_0000010.png")
    rows = [result(name, [run]) for name in "abcde"]
    spec = {"kind": "curves", "samples": True, "panels": [{"key": "train/d_fake"}]}
    one_line = Image.open(draw_curves(rows, tmp_path / "one.png", spec)).size
    three_lines = Image.open(draw_curves(rows, tmp_path / "three.png", {**spec, "sample_columns": 2})).size
    assert three_lines[0] == one_line[0] and three_lines[1] > one_line[1] + 500  # 2 more lines of 3.2 in at 100 dpi


@pytest.mark.parametrize("spec, message", [
    ({"kind": "curves"}, "needs `panels`"),
    ({"kind": "curves", "panels": [{"label": "x"}]}, "panel 1: needs `key`"),
    ({"kind": "curves", "panels": [{"key": "x", "x": "epoch"}]}, "x must be iteration or step"),
    ({"kind": "curves", "panels": [{"key": "x", "rows": ["nope"]}]}, "are not rows"),
    ({"kind": "curves", "panels": [{"key": "x", "smooth": 0}]}, "smooth must be"),
    ({"kind": "curves", "panels": [{"key": "x", "colour": 1}]}, "unknown keys"),
    ({"kind": "curves", "panels": [{"key": "x"}], "size": 3}, "unknown keys"),
    ({"kind": "curves", "panels": [{"key": "x"}], "sample_columns": 0}, "sample_columns must be a positive"),
])
def test_bad_curves_figures_are_refused(spec, message):
    problem = check_spec(spec, "t.yaml: figure", {"a"})
    assert problem is not None and message in problem


def test_a_window_restricts_a_correlation_to_the_metric_points_inside_it(tmp_path):
    its = list(range(1, 201))
    loss = [float(i) for i in its]  # rises all run
    fid = [10.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # falls first, then rises with the loss
    write_log(tmp_path, training_rows(its, [0.5] * 200, loss, fid_every=25, fid=fid))
    series = read_log(tmp_path)
    whole = compute(LogValue("r", ("train/loss_d",), vs="val/fid_2k", stat="spearman"), series)
    later = compute(LogValue("r", ("train/loss_d",), (50, None), vs="val/fid_2k", stat="pearson"), series)
    assert whole == pytest.approx(stats.spearmanr(range(8), fid)[0])
    # the points at 50, 75, ..., 200, each with the loss since the previous point (also the one left out)
    windows = [np.mean(loss[k - 25:k]) for k in range(50, 201, 25)]
    assert windows[0] == np.mean(range(26, 51))
    assert later == pytest.approx(stats.pearsonr(windows, fid[1:])[0])


def test_smoothing_is_a_trailing_mean_over_iterations_not_logged_points():
    from lit_gan.reproduce.curves import _series

    # one value per iteration: the mean of the last 3 iterations of y = x is x - 1, from x = 3 on
    log = {"k": [(float(i), 2.0 * i, float(i)) for i in range(1, 11)]}
    x, y = _series(log, ("k",), {"key": "k", "smooth": 3})
    assert x.tolist() == list(range(3, 11)) and y.tolist() == [v - 1.0 for v in range(3, 11)]
    # five logged values per iteration, 0 10 0 10 0 (a quantity that swings within WGAN's 5-batch
    # iteration): a 2-iteration window at each iteration's last point holds both whole iterations
    log = {"k": [(float(i), 0.0, 10.0 * (j % 2)) for i in range(1, 7) for j in range(5)]}
    x, y = _series(log, ("k",), {"key": "k", "smooth": 2})
    last_of_each = y[4::5]
    assert np.allclose(last_of_each, 4.0) and len(last_of_each) == 5  # iterations 2-6: the per-iteration mean


def test_keys_a_run_never_logged_are_named(tmp_path):
    from lit_gan.reproduce.logs import unlogged

    write_log(tmp_path, training_rows([1, 2, 3], [0.5] * 3, [1.0] * 3))
    specs = parse_log_values({"ok": {"key": ["train/wasserstein", "train/loss_d"]},
                              "typo": {"key": "train/d_fkae"},
                              "no_fid": {"key": "train/loss_d", "vs": "val/fid_10k", "stat": "pearson"}}, "t.yaml")
    assert unlogged(read_log(tmp_path), specs) == ["typo: train/d_fkae", "no_fid: train/loss_d / val/fid_10k"]
