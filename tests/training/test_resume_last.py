"""``--ckpt_path last`` under DDP: rank 0 picks the newest checkpoint and every rank resumes
from its pick (ranks looking alone may see different files: node-local disks, or a checkpoint
written between their looks)."""

from __future__ import annotations

import json
import shutil

import torch

from tests.ranks import run_ranks
from tests.run_helpers import fit_command, last, run

RECORD = '''
import os
from pathlib import Path
import lightning as L

# Imported by every rank while its CLI builds the callbacks, before --ckpt_path is resolved: on
# rank 1 (a process that Lightning's DDP launcher starts), a checkpoint is written "meanwhile".
if os.environ.get("LOCAL_RANK") == "1":
    os.utime(os.environ["TOUCH_ON_RANK_1"])


class RecordCkptPath(L.Callback):
    def on_fit_start(self, trainer, pl_module):
        Path(f"ckpt_path_rank{trainer.global_rank}").write_text(str(trainer.ckpt_path))
'''


def test_every_rank_resumes_from_rank_0_s_pick(tmp_path):
    (tmp_path / "resume_callbacks.py").write_text(RECORD)
    save_dir = tmp_path / "runs"
    first = run(tmp_path, fit_command(save_dir, "--max_iterations", "4"))
    assert first.returncode == 0, first.stderr[-3000:]
    older = save_dir / "r" / "version_0" / "checkpoints" / "last.ckpt"
    newer = save_dir / "r" / "version_1" / "checkpoints" / "last.ckpt"
    newer.parent.mkdir(parents=True)
    shutil.copy(older, newer)  # the newest when rank 0 looks; rank 1 then sees version_0 touched
    ddp = ["--trainer.devices", "2", "--trainer.strategy", "ddp_find_unused_parameters_true",
           "--max_iterations", "6", "--trainer.callbacks+=resume_callbacks.RecordCkptPath", "--ckpt_path", "last"]
    result = run(tmp_path, fit_command(save_dir, *ddp), env={"TOUCH_ON_RANK_1": str(older)}, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    paths = [(tmp_path / f"ckpt_path_rank{r}").read_text() for r in range(2)]
    assert paths == [str(newer), str(newer)], paths
    assert last(save_dir, 2)["lit_gan"]["iterations"] == 6


CHOOSE = """
import os
from pathlib import Path
from lit_gan.training.resume import agreed_newest_checkpoint

mine = Path(out_dir) / f"rank{rank}"  # node-local disks: each rank has other files
found = agreed_newest_checkpoint(mine, processes=world)
Path(out_dir, f"found{rank}").write_text(str(found))
"""


def test_the_pick_is_rank_0_s_on_every_rank(tmp_path):
    """With a process group (torchrun / srun start every rank, and the group is started before
    the pick): rank 0's newest file, even where rank 1 has a newer one or none."""
    for rank, versions in ((0, ["version_0", "version_1"]), (1, ["version_0", "version_2"])):
        for version in versions:
            path = tmp_path / f"rank{rank}" / version / "checkpoints" / "last.ckpt"
            path.parent.mkdir(parents=True)
            torch.save({"state_dict": {}}, path)
    results = run_ranks(CHOOSE, tmp_path, timeout=60)
    assert all(code == 0 for code, _, _ in results), [err[-2000:] for _, _, err in results]
    expected = str(tmp_path / "rank0" / "version_1" / "checkpoints" / "last.ckpt")
    assert [(tmp_path / f"found{r}").read_text() for r in range(2)] == [expected, expected]
