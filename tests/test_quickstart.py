"""experiments/quickstart.yaml (README "Two commands"): its metrics.csv ends with a validation of
the final weights, whatever --max_iterations is, and it agrees with `validate` on last.ckpt."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lit_gan.cli import main

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "experiments" / "quickstart.yaml"

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]


def tiny(save_dir: Path, iterations: int) -> list[str]:
    """The shipped config on 512 points in batches of 64 (8 per epoch). std 0.5 instead of
    0.02 makes the high-quality fraction of a barely trained G non-zero, so numbers of
    different weights differ."""
    return [
        "--config", str(QUICKSTART),
        "--data.init_args.num_train", "512", "--data.init_args.num_val", "128",
        "--data.init_args.batch_size", "64", "--data.init_args.std", "0.5",
        "--max_iterations", str(iterations),
        "--trainer.logger.init_args.save_dir", str(save_dir),
        "--trainer.log_every_n_steps", "1",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--samples.every_n_iterations", "0",
    ]


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def val_rows(run: Path) -> list[tuple[int, float, float]]:
    return [(int(r["step"]), float(r["val/modes_covered"]), float(r["val/high_quality_fraction"]))
            for r in rows(run) if r.get("val/modes_covered")]


def test_quickstart_ends_with_a_validation_at_its_last_iteration(tmp_path, monkeypatch):
    """13 iterations = 1 epoch of 8 batches + 5: Lightning validates only after batch 8."""
    torch.set_num_threads(1)
    monkeypatch.setattr(sys, "argv", ["lit_gan"])
    monkeypatch.chdir(tmp_path)
    main(["fit", *tiny(tmp_path / "runs", 13)])
    run = tmp_path / "runs" / "quickstart" / "version_0"
    train = [(int(r["step"]), float(r["train/iteration"])) for r in rows(run) if r.get("train/iteration")]
    assert train[-1] == (12, 13.0)  # the last training row: iteration 13 at step 12
    val = val_rows(run)
    assert [step for step, _, _ in val] == [7, 12]  # the epoch-end validation, then the final weights
    assert val[-1][2] > 0 and val[-1][2] != val[0][2]  # numbers of other weights than the epoch's

    # `validate` on last.ckpt scores the same weights with the same noise: the same numbers
    main(["validate", *tiny(tmp_path / "check", 13), "--ckpt_path", str(run / "checkpoints" / "last.ckpt")])
    (checked,) = val_rows(tmp_path / "check" / "quickstart" / "version_0")
    assert checked[1:] == val[-1][1:]


def test_quickstart_settings_match_its_header():
    """The header states what it ran and what it measured; the settings must be those."""
    text = QUICKSTART.read_text()
    config = yaml.safe_load(text)
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    model = config["model"]["init_args"]
    assert "python -m lit_gan fit --config experiments/quickstart.yaml" in header
    assert f"{config['max_iterations']:,} generator iterations" in header
    assert model["loss"] in header and "seeds 0-4" in header
    coverage = config["trainer"]["callbacks"][0]["init_args"]
    assert coverage["num_samples"] == 2500 and coverage["min_count"] == 20  # the measured protocol
