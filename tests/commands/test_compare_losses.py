"""`python -m lit_gan compare-losses` end to end on tiny budgets: figure, table, reuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.reproduce.runs import Run

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.yaml"


def compare(*args) -> int:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["compare-losses", *map(str, args)])
    return exc.value.code


def test_trains_each_seed_draws_one_figure_and_reuses_finished_runs(tmp_path, capsys):
    out, runs_root = tmp_path / "cmp", tmp_path / "runs"
    args = ("--configs", QUICKSTART, "--seeds", 0, 1, "--max-iterations", 15, "--out", out, "--runs", runs_root)
    assert compare(*args) == 0
    first = capsys.readouterr()
    assert first.err.count("training quickstart_") == 2
    # the runs are reproduce's own (lit_gan.reproduce.runs): either command reuses the other's
    expected = {Run(str(QUICKSTART), ("--max_iterations", "15"), seed, runs_root).dir for seed in (0, 1)}
    assert {p for p in runs_root.iterdir() if p.is_dir()} == expected and all((d / "DONE").is_file() for d in expected)
    summary = json.loads((out / "summary.json").read_text())
    runs = summary["runs"]["quickstart"]
    assert set(runs) == {"0", "1"} and all(r["iterations"] == 15 and 0 <= r["modes_covered"] <= 8 for r in runs.values())
    assert "| quickstart |" in (out / "summary.md").read_text() and "| quickstart |" in first.out
    width, height = Image.open(out / "ring8_losses.png").size
    assert height > width  # one column (loss), two rows (seeds)
    # again: both runs are found finished and only re-evaluated
    assert compare(*args) == 0
    again = capsys.readouterr()
    assert "training" not in again.err and again.err.count("reusing") == 2
    assert json.loads((out / "summary.json").read_text()) == summary


def test_missing_config_exits_2(tmp_path, capsys):
    assert compare("--configs", tmp_path / "nope.yaml", "--out", tmp_path) == 2
    assert "config not found" in capsys.readouterr().err
