"""Exact resume on 2 processes (gloo): a run cut inside epoch 0, inside epoch 1, or by SIGTERM
and resumed with ``--ckpt_path last`` ends with the uninterrupted run's weights and optimizer
states, bit for bit.

Before (Lightning's ``DistributedSamplerWrapper`` around our sampler: stateless, and it does not
forward ``set_epoch``) the resumed runs continued from another order of the data and ended
0.005-0.006 away from the straight run here (0.031-0.097 on the Fashion-MNIST DCGAN).
"""

from __future__ import annotations

import pytest
import torch

from tests.run_helpers import assert_same_run, fit_command, last, run, write_callbacks

# the ring run (tests/run_helpers.py) on 2 ranks: 512 points / (2 x 64) = 4 batches an epoch per
# rank, n_critic 2, so 2 generator iterations an epoch
DDP = ["--trainer.devices", "2", "--trainer.strategy", "ddp_find_unused_parameters_true"]
ITERATIONS = ["--max_iterations", "12"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> dict:
    folder = write_callbacks(tmp_path_factory.mktemp("straight"))
    result = run(folder, fit_command(folder / "runs", *DDP, *ITERATIONS))
    assert result.returncode == 0, result.stderr[-3000:]
    return last(folder / "runs", 0)


def assert_same_optimizers(a: dict, b: dict) -> None:
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for param, state in opt_a["state"].items():
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    torch.testing.assert_close(opt_b["state"][param][key], value, rtol=0, atol=0, msg=f"{param}.{key}")


def _resume_and_compare(folder, straight: dict) -> None:
    resumed = run(folder, fit_command(folder / "runs", *DDP, *ITERATIONS, "--ckpt_path", "last"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from" in resumed.stderr
    assert_same_run(straight, last(folder / "runs", 1))
    assert_same_optimizers(straight, last(folder / "runs", 1))


@pytest.mark.parametrize("cut_at", [1, 3], ids=["inside_epoch_0", "inside_epoch_1"])
def test_ddp_resume_after_max_iterations_is_exact(tmp_path, straight, cut_at):
    write_callbacks(tmp_path)
    stopped = run(tmp_path, fit_command(tmp_path / "runs", *DDP, "--max_iterations", str(cut_at)))
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    saved = last(tmp_path / "runs", 0)
    assert (saved["lit_gan"]["iterations"], saved["epoch"]) == (cut_at, cut_at // 2)  # mid-epoch, as meant
    _resume_and_compare(tmp_path, straight)


def test_ddp_sigterm_to_one_rank_stops_every_rank_and_resumes_exactly(tmp_path, straight):
    """Rank 1 alone receives the signal; both ranks agree at the end of that batch, save one
    checkpoint with both ranks' RNG streams, exit 143, and the resumed run is the straight one."""
    write_callbacks(tmp_path)
    stopped = run(tmp_path, fit_command(tmp_path / "runs", *DDP, *ITERATIONS,
                                        "--trainer.callbacks+=test_callbacks.SignalAt"),
                  env={"SIGNAL_AT_BATCH": "5", "SIGNAL_AT_RANK": "1"})
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    saved = last(tmp_path / "runs", 0)
    assert saved["lit_gan"]["batches_seen"] == 5 and len(saved["lit_gan"]["rng"]) == 2
    _resume_and_compare(tmp_path, straight)
