"""Shared fixtures: tiny datasets in the exact on-disk formats (lit_gan.data.fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_gan.data.fixtures import write_tiny_mnist

__all__ = ["write_tiny_mnist"]  # tests import it from here


@pytest.fixture
def tiny_mnist(tmp_path: Path) -> Path:
    return write_tiny_mnist(tmp_path / "mnist")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny nets on 2 shared cores run 10x faster on one thread (no thread contention)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# a child seeing these believes a launcher started it and waits for peers that never come
RANK_VARS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK", "LOCAL_WORLD_SIZE")
# harmless to a child, but put back (an in-process `evaluate --devices 2` sets them)
RENDEZVOUS_VARS = ("MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(autouse=True)
def _no_process_group_left_behind():
    """A test that leaves a process group or DDP launcher variables in this process (an in-process
    fit with a DDP strategy on one device does both) makes every later multi-process run inherit
    them: its ranks then wait for peers that never come. Fail that test, and clean up."""
    import os

    import torch.distributed as dist

    before = {name: os.environ.get(name) for name in RANK_VARS + RENDEZVOUS_VARS}
    yield
    changed = [name for name, value in before.items() if os.environ.get(name) != value]
    for name in changed:
        if before[name] is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before[name]
    leaked = [name for name in changed if name in RANK_VARS]
    group = dist.is_available() and dist.is_initialized()
    if group:
        dist.destroy_process_group()
    assert not group and not leaked, (f"the test left a torch.distributed process group ({group}) or launcher "
                                      f"variables {leaked} in the pytest process: later DDP subprocesses inherit them "
                                      "and hang; run multi-process code in a subprocess or tear it down")
