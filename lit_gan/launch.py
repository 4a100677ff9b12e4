"""A launcher (torchrun, SLURM's srun) and the config must agree on how many processes train.

``torchrun --nproc-per-node 2`` with ``trainer.devices: 1`` (what the experiment configs
say) starts two separate single-process runs that train the same thing twice and race for
one ``version_k`` folder. Lightning compares the two only under a distributed strategy.
Here every rank compares them once the Trainer is built, before anything is written, and
all stop with the same message. We stop rather than follow the launcher: the config (and
the config.yaml saved with the run) would then say 1 device for a 2-process run, the
per-device batch size would silently double the effective one, and GANs need a strategy
choice (docs/training.md, "Many GPUs") that is the user's to make.

SLURM is detected as Lightning detects it (``SLURM_NTASKS`` set and the job not named
``bash`` / ``interactive``), which assumes ``srun`` started the tasks; one process started
inside a multi-task allocation without ``srun`` should use ``--job-name interactive``, as
Lightning documents.
"""

from __future__ import annotations

import os

from lightning.fabric.plugins.environments import (
    SLURMEnvironment,
    TorchElasticEnvironment,
)

from lit_gan.errors import UserError

STRATEGY_HINT = "--trainer.strategy ddp_find_unused_parameters_true"


class LaunchMismatch(UserError):
    """The launcher started a different number of processes than the config trains with."""


def launched_processes() -> tuple[str, int, int | None] | None:
    """(who started how many, processes in all, processes per node) when torchrun or SLURM
    started this process, detected as Lightning detects them; None for a plain start."""
    if TorchElasticEnvironment.detect():  # torchrun sets TORCHELASTIC_RUN_ID
        return _read("torchrun started {} processes", "WORLD_SIZE", "LOCAL_WORLD_SIZE")
    if SLURMEnvironment.detect():  # SLURM_NTASKS set and the job not named bash / interactive
        return _read("SLURM runs {} tasks", "SLURM_NTASKS", "SLURM_NTASKS_PER_NODE")
    return None


def _read(what: str, world_var: str, per_node_var: str) -> tuple[str, int, int | None]:
    world = int(os.environ[world_var])
    per_node = os.environ.get(per_node_var)
    said = f"{world_var}={world}" + (f", {per_node_var}={per_node}" if per_node else "")
    return f"{what.format(world)} ({said})", world, int(per_node) if per_node else None


def check_world_size(devices: int, num_nodes: int) -> None:
    """Raise LaunchMismatch unless ``devices`` x ``num_nodes`` (as the Trainer resolved them)
    is the launcher's world size, with ``devices`` processes on each node."""
    launched = launched_processes()
    if launched is None:
        return
    said, world, per_node = launched
    per_node = per_node or max(world // num_nodes, 1)
    if devices * num_nodes == world and devices == per_node:
        return
    nodes = max(world // per_node, 1)
    raise LaunchMismatch(
        f"{said}, but the config trains with trainer.devices={devices} x trainer.num_nodes={num_nodes}: "
        f"the processes would not train as one run. Pass --trainer.devices {per_node} --trainer.num_nodes {nodes} "
        f"{STRATEGY_HINT}, or start a single process without the launcher."
    )
