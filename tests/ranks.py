"""Run a worker script as 2 gloo ranks (separate processes), with a timeout that turns a
hang (one rank waiting in a collective the other never calls) into a test failure.

The worker gets ``rank, world, init_file, out_dir = sys.argv[1:5]`` (plus ``extra``) and a
preamble that initializes the process group; an epilogue tears it down once every rank is
done (a rank that destroyed its group while the other was still in a gloo call sometimes
aborted at exit under load: "terminate called without an active exception")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PREAMBLE = """
import sys
import torch
import torch.distributed as dist
rank, world, init_file, out_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
extra = sys.argv[5:]
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world)
"""

EPILOGUE = """
if dist.is_initialized():
    dist.barrier()
    dist.destroy_process_group()
"""


def run_ranks(worker: str, out_dir: Path, *extra: str, world: int = 2, timeout: float = 60,
              env: dict | None = None) -> list[tuple[int, str, str]]:
    """(returncode, stdout, stderr) of each rank; a rank still running after ``timeout``
    seconds is killed and reported as returncode None."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    full_env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=path, **(env or {}))
    init = out_dir / "dist_init"
    init.unlink(missing_ok=True)
    procs = [subprocess.Popen([sys.executable, "-c", PREAMBLE + worker + EPILOGUE, str(r), str(world), str(init), str(out_dir),
                               *extra], env=full_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for r in range(world)]
    results, deadline = [], time.monotonic() + timeout
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append((proc.returncode, out, err))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            results.append((None, out, err + "\n[killed: timed out, a rank hung in a collective]"))
    return results
