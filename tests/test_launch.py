"""lit_gan.launch: torchrun / SLURM process counts that disagree with trainer.devices x
trainer.num_nodes stop every rank with one message before any run folder exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lit_gan.cli import main
from lit_gan.launch import LaunchMismatch, check_world_size

REPO = Path(__file__).resolve().parents[1]
LAUNCHER_VARS = ("TORCHELASTIC_RUN_ID", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "RANK", "LOCAL_RANK", "GROUP_RANK",
                 "SLURM_NTASKS", "SLURM_NTASKS_PER_NODE", "SLURM_JOB_NAME", "SLURM_PROCID", "SLURM_LOCALID",
                 "SLURM_NODEID", "SLURM_NNODES")


@pytest.fixture(autouse=True)
def plain_start(monkeypatch):
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


def torchrun(monkeypatch, world: int, per_node: int, rank: int = 0) -> None:
    """What `torchrun --nnodes world/per_node --nproc-per-node per_node` sets for one process."""
    for name, value in {"TORCHELASTIC_RUN_ID": "test", "WORLD_SIZE": world, "LOCAL_WORLD_SIZE": per_node,
                        "RANK": rank, "LOCAL_RANK": rank % per_node, "GROUP_RANK": rank // per_node,
                        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29511"}.items():
        monkeypatch.setenv(name, str(value))


def srun(monkeypatch, tasks: int, per_node: int, rank: int = 0, job_name: str = "train") -> None:
    for name, value in {"SLURM_NTASKS": tasks, "SLURM_NTASKS_PER_NODE": per_node, "SLURM_JOB_NAME": job_name,
                        "SLURM_PROCID": rank, "SLURM_LOCALID": rank % per_node, "SLURM_NODEID": rank // per_node,
                        "SLURM_NNODES": tasks // per_node, "SLURM_NODELIST": "node1"}.items():
        monkeypatch.setenv(name, str(value))


def test_a_plain_start_is_not_checked():
    check_world_size(devices=1, num_nodes=1)
    check_world_size(devices=4, num_nodes=2)


def test_torchrun_matching_the_config_passes(monkeypatch):
    torchrun(monkeypatch, world=4, per_node=2)
    check_world_size(devices=2, num_nodes=2)


@pytest.mark.parametrize(("devices", "num_nodes"), [(1, 1), (4, 1), (1, 2), (2, 1)])
def test_torchrun_disagreeing_with_the_config_says_what_to_pass(monkeypatch, devices, num_nodes):
    torchrun(monkeypatch, world=4, per_node=2)  # 2 nodes x 2 processes
    with pytest.raises(LaunchMismatch) as exc:
        check_world_size(devices=devices, num_nodes=num_nodes)
    message = str(exc.value)
    assert "torchrun started 4 processes (WORLD_SIZE=4, LOCAL_WORLD_SIZE=2)" in message
    assert f"trainer.devices={devices} x trainer.num_nodes={num_nodes}" in message
    assert "--trainer.devices 2 --trainer.num_nodes 2 --trainer.strategy ddp_find_unused_parameters_true" in message


def test_srun_disagreeing_with_the_config(monkeypatch):
    srun(monkeypatch, tasks=2, per_node=2)
    check_world_size(devices=2, num_nodes=1)
    with pytest.raises(LaunchMismatch, match=r"SLURM runs 2 tasks \(SLURM_NTASKS=2, SLURM_NTASKS_PER_NODE=2\)"):
        check_world_size(devices=1, num_nodes=1)


def test_an_interactive_slurm_job_is_not_an_srun_launch(monkeypatch):
    """Lightning's own rule: a job named bash / interactive starts its processes itself."""
    srun(monkeypatch, tasks=2, per_node=2, job_name="interactive")
    check_world_size(devices=1, num_nodes=1)


@pytest.mark.parametrize("rank", [0, 1])
def test_every_rank_of_a_mismatched_torchrun_stops_before_writing(tmp_path, monkeypatch, rank):
    """Each of the two processes `torchrun --nproc-per-node 2` starts, with a devices: 1 config
    (the quickstart): both stop at Trainer construction, and no run folder is made."""
    monkeypatch.chdir(tmp_path)
    torchrun(monkeypatch, world=2, per_node=2, rank=rank)
    with pytest.raises(LaunchMismatch, match="torchrun started 2 processes"):
        main(["fit", "--config", str(REPO / "experiments" / "quickstart.yaml"),
              "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")])
    assert not (tmp_path / "runs").exists()



@pytest.mark.slow
def test_real_torchrun_two_processes_with_devices_1(tmp_path):
    """`torchrun --nproc-per-node 2` on CPU with the quickstart's devices: 1 (17 s on 2 cores):
    both ranks print the message and exit 2, and no run folder is made."""
    if shutil.which("torchrun") is None:
        pytest.skip("torchrun not on PATH")
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARS}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))
    cmd = ["torchrun", "--nproc-per-node", "2", "-m", "lit_gan", "fit",
           "--config", str(REPO / "experiments" / "quickstart.yaml"), "--max_iterations", "5"]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    for rank in (0, 1):
        assert f"error (rank {rank} of 2): torchrun started 2 processes" in done.stderr, done.stderr[-3000:]
    assert "failed (exitcode: 2)" in done.stderr  # torchrun's own report of our exit code
    assert not (tmp_path / "runs").exists()
