"""SIGTERM / SIGINT to a real `python -m lit_gan fit`: a checkpoint of the current (mid-epoch)
state, exit code 128 + signal, and a resume that equals the uninterrupted run.

Before (Lightning alone): no checkpoint was written and the process exited 0, so
`--ckpt_path last` silently resumed an older run and everything since its last epoch end was lost.
"""

from __future__ import annotations

import signal
import time

import torch

from tests.run_helpers import assert_same_run, fit_command, last, popen, run, write_callbacks

SIGNAL_AT = ["--trainer.callbacks+=test_callbacks.SignalAt"]


def test_sigterm_saves_mid_epoch_and_resume_is_exact(tmp_path):
    write_callbacks(tmp_path)
    straight = run(tmp_path, fit_command(tmp_path / "straight", "--max_iterations", "14"))
    assert straight.returncode == 0, straight.stderr[-3000:]

    # batch 11 of 8-batch epochs: mid-epoch 1, after 5 generator iterations
    stopped = run(tmp_path, fit_command(tmp_path / "split", "--max_iterations", "14", *SIGNAL_AT),
                  env={"SIGNAL_AT_BATCH": "11"})
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    assert "stopped by SIGTERM at iteration 5" in stopped.stderr and "Traceback" not in stopped.stderr
    saved = last(tmp_path / "split", 0)
    assert (saved["lit_gan"]["batches_seen"], saved["lit_gan"]["iterations"]) == (11, 5)

    resumed = run(tmp_path, fit_command(tmp_path / "split", "--max_iterations", "14", "--ckpt_path", "last"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from" in resumed.stderr and "iteration 5," in resumed.stderr
    assert_same_run(last(tmp_path / "straight", 0), last(tmp_path / "split", 1))


def test_sigint_at_an_epoch_end_saves_that_epoch_and_exits_130(tmp_path):
    """Batch 8 closes epoch 0: the save waits for the epoch's end (a batch-end checkpoint there
    would resume one epoch too far), then the process exits like Ctrl+C."""
    write_callbacks(tmp_path)
    stopped = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "14", *SIGNAL_AT),
                  env={"SIGNAL_AT_BATCH": "8", "SIGNAL_AT_SIGNUM": str(int(signal.SIGINT))})
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    saved = last(tmp_path / "runs", 0)
    assert (saved["lit_gan"]["batches_seen"], saved["epoch"]) == (8, 0)


def test_sigterm_from_outside_loses_nothing(tmp_path):
    """The signal comes from another process at a moment the test does not choose (after the
    first epoch's checkpoint exists); the run still resumes to the straight run's weights."""
    write_callbacks(tmp_path)
    n = ["--max_iterations", "300"]
    straight = run(tmp_path, fit_command(tmp_path / "straight", *n))
    assert straight.returncode == 0, straight.stderr[-3000:]

    process = popen(tmp_path, fit_command(tmp_path / "split", *n))
    first = tmp_path / "split" / "r" / "version_0" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-3000:]
    saved = last(tmp_path / "split", 0)
    assert 0 < saved["lit_gan"]["iterations"] < 300
    resumed = run(tmp_path, fit_command(tmp_path / "split", *n, "--ckpt_path", "last"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(last(tmp_path / "straight", 0), last(tmp_path / "split", 1))


def test_a_signal_saves_even_with_save_last_off(tmp_path):
    """--checkpoint.save_last false opts out of last.ckpt, not out of keeping a stopped run's state."""
    write_callbacks(tmp_path)
    stopped = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "14", "--checkpoint.save_last", "false",
                                        *SIGNAL_AT), env={"SIGNAL_AT_BATCH": "11"})
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    saved = tmp_path / "runs" / "r" / "version_0" / "checkpoints" / "last-preempted.ckpt"
    assert f"saved {saved}" in stopped.stderr
    assert torch.load(saved, weights_only=False)["lit_gan"]["batches_seen"] == 11
