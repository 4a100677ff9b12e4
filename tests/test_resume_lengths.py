"""Resume is exact with every way of saying how long to train, at an epoch boundary and mid-epoch.

Each case trains one run straight and the same length in two (or three) parts joined by
``fit --ckpt_path last``, on CPU in deterministic mode, and compares the final checkpoints:
iterations, epoch, optimizer steps and every weight must agree exactly. Lightning 2.6 alone
(``max_steps`` as the limit, ``last.ckpt`` at epoch ends, a loader without state) failed all
the mid-epoch and iteration-based cases here: wrong data order, a lost or extra epoch.

Data: the 2-D ring, 512 points in batches of 64 = 8 batches an epoch; n_critic 2 = 4
generator iterations an epoch, 3 optimizer steps per iteration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lit_gan.cli import main as cli_main
from tests.run_helpers import ring_args


def _fit(save_dir: Path, *extra: str) -> None:
    cli_main(["fit", *ring_args(
        save_dir, "--trainer.devices", "1",
        "--model.init_args.optimizer", "sgd", "--model.init_args.lr_g", "0.05", "--model.init_args.lr_d", "0.05",
        "--model.init_args.final_momentum", "0.7", "--model.init_args.momentum_ramp_epochs", "3",  # per-epoch state
        "--model.init_args.lr_schedule", "exponential", "--model.init_args.lr_decay", "1.01",  # per-iteration state
        *extra,
    )])


def _last(save_dir: Path, version: int) -> dict:
    return torch.load(save_dir / "r" / f"version_{version}" / "checkpoints" / "last.ckpt", weights_only=False)


CASES = {
    # name: (straight run, [first part, continuation, ...])
    "max_epochs": (["--trainer.max_epochs", "4"], [["--trainer.max_epochs", "2"], ["--trainer.max_epochs", "4"]]),
    "iterations_at_epoch_end": (["--max_iterations", "16"], [["--max_iterations", "8"], ["--max_iterations", "16"]]),
    "iterations_mid_epoch": (["--max_iterations", "14"], [["--max_iterations", "6"], ["--max_iterations", "14"]]),
    "max_steps_mid_epoch": (["--trainer.max_steps", "42"], [["--trainer.max_steps", "18"], ["--trainer.max_steps", "42"]]),
    # the report: a large --max_iterations beside max_epochs (2 + 2 trained 3 epochs)
    "epochs_with_iterations_set": (["--trainer.max_epochs", "4", "--max_iterations", "1000"],
                                   [["--trainer.max_epochs", "2", "--max_iterations", "1000"],
                                    ["--trainer.max_epochs", "4", "--max_iterations", "1000"]]),
    "iterations_then_epochs": (["--trainer.max_epochs", "4"], [["--max_iterations", "6"], ["--trainer.max_epochs", "4"]]),
    "three_parts": (["--max_iterations", "15"],
                    [["--max_iterations", "5"], ["--max_iterations", "11"], ["--max_iterations", "15"]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_split_run_equals_straight_run(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    straight, parts = CASES[case]
    _fit(tmp_path / "straight", *straight)
    for i, part in enumerate(parts):
        _fit(tmp_path / "split", *part, *(["--ckpt_path", "last"] if i else []))
    a, b = _last(tmp_path / "straight", 0), _last(tmp_path / "split", len(parts) - 1)
    assert (b["lit_gan"]["iterations"], b["epoch"], b["global_step"]) == (a["lit_gan"]["iterations"], a["epoch"], a["global_step"])
    for key, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], value, rtol=0, atol=0, msg=key)
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"]):
        assert [g["lr"] for g in opt_a["param_groups"]] == [g["lr"] for g in opt_b["param_groups"]]
        assert [g["momentum"] for g in opt_a["param_groups"]] == [g["momentum"] for g in opt_b["param_groups"]]


def test_length_is_what_was_asked(tmp_path, monkeypatch):
    """--max_iterations N stops after exactly N generator iterations, mid-epoch too, and a
    resume at or past the limit trains nothing."""
    monkeypatch.chdir(tmp_path)
    _fit(tmp_path, "--max_iterations", "6")
    first = _last(tmp_path, 0)
    assert (first["lit_gan"]["iterations"], first["global_step"]) == (6, 18)
    before = (tmp_path / "r" / "version_0" / "checkpoints" / "last.ckpt").read_bytes()
    _fit(tmp_path, "--max_iterations", "6", "--ckpt_path", "last")
    assert not (tmp_path / "r" / "version_1" / "checkpoints" / "last.ckpt").exists()  # no batch was trained
    assert (tmp_path / "r" / "version_0" / "checkpoints" / "last.ckpt").read_bytes() == before
