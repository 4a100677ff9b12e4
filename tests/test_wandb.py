"""experiments/_base/wandb.yaml end to end: a tiny real fit under WANDB_MODE=offline, read
back from the run's own transaction log (the .wandb file that `wandb sync` uploads)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from PIL import Image

pytest.importorskip("wandb")  # the [wandb] extra (also in [dev])
from wandb.proto import wandb_internal_pb2  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "experiments" / "quickstart.yaml"
WANDB_CONFIG = REPO / "experiments" / "_base" / "wandb.yaml"
ITERATIONS = 20


def offline_env(root: Path, **extra: str) -> dict[str, str]:
    """No network, nothing written outside ``root``; one torch thread (tiny nets, 2 cores)."""
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", OMP_NUM_THREADS="1")
    for name in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        env[name] = str(root / "wandb_home")
    env.pop("WANDB_RUN_ID", None)
    env.update(extra)
    return env


def fit_args(save_dir: Path, iterations: int = ITERATIONS) -> list[str]:
    """The quickstart with the wandb config appended, shrunk to a few seconds."""
    return [
        sys.executable, "-m", "lit_gan", "fit",
        "--config", str(QUICKSTART), "--config", str(WANDB_CONFIG),
        "--trainer.logger.init_args.save_dir", str(save_dir),
        "--max_iterations", str(iterations),
        "--data.init_args.num_train", "512", "--data.init_args.num_val", "256",
        "--data.init_args.batch_size", "64",
        "--trainer.log_every_n_steps", "5",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--samples.every_n_iterations", "10",
    ]


def read_records(path: Path) -> Iterator[wandb_internal_pb2.Record]:
    """The records of a .wandb file: a 7-byte header (":W&B", magic, version), then
    LevelDB-log framing: 32 KiB blocks of chunks (crc32c, length, type; 1 = whole record,
    2/3/4 = first/middle/last piece); a block's tail shorter than a chunk header is padding."""
    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a wandb transaction log"
    block, pos, pieces = 32768, 7, []
    while pos + 7 <= len(data):
        if block - pos % block < 7:
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        pieces.append(data[pos + 7 : pos + 7 + length])
        pos += 7 + length
        if kind in (1, 4):
            yield wandb_internal_pb2.Record.FromString(b"".join(pieces))
            pieces = []


def as_dict(items) -> dict:
    """History / config items -> a nested dict (newer wandb splits media into nested_key)."""
    out: dict = {}
    for item in items:
        keys = [item.key] if item.key else list(item.nested_key)
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = json.loads(item.value_json)
    return out


class OfflineRun:
    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir  # runs/wandb/offline-run-<time>-<id>/
        (log,) = run_dir.glob("run-*.wandb")
        records = list(read_records(log))
        self.history = [as_dict(r.history.item) for r in records if r.WhichOneof("record_type") == "history"]
        self.config: dict = {}
        for r in records:
            if r.WhichOneof("record_type") == "config":
                self.config.update(as_dict(r.config.update))
        (self.run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]


def offline_runs(save_dir: Path) -> list[OfflineRun]:
    return [OfflineRun(d) for d in sorted((save_dir / "wandb").glob("offline-run-*"))]


@pytest.fixture(scope="module")
def wandb_fit(tmp_path_factory) -> tuple[Path, OfflineRun]:
    root = tmp_path_factory.mktemp("wandb_fit")
    save_dir = root / "runs"
    proc = subprocess.run(fit_args(save_dir), cwd=root, env=offline_env(root), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = offline_runs(save_dir)
    return save_dir, run


def test_losses_and_metrics_are_logged(wandb_fit):
    _, run = wandb_fit
    for key in ("train/loss_d", "train/loss_g", "val/modes_covered"):
        values = [row[key] for row in run.history if key in row]
        assert values, f"{key} never logged; keys: {sorted({k for row in run.history for k in row})}"
        assert all(math.isfinite(v) for v in values)
    iterations = [row["train/iteration"] for row in run.history if "train/iteration" in row]
    assert max(iterations) == ITERATIONS


def test_sample_grids_are_logged_as_images(wandb_fit):
    save_dir, run = wandb_fit
    grids = [row["samples"] for row in run.history if "samples" in row]
    assert len(grids) == 2, "one grid at iteration 10, one at the end"
    on_disk = sorted((save_dir / "lit_gan" / run.run.run_id / "samples").glob("iter_*.png"))
    assert [p.name for p in on_disk] == ["iter_0000010.png", "iter_0000020.png"]
    for grid, png in zip(grids, on_disk):
        (name,) = grid["filenames"]
        with Image.open(run.dir / "files" / name) as logged, Image.open(png) as written:
            assert logged.size == written.size
            assert logged.convert("RGB").tobytes() == written.convert("RGB").tobytes()


def test_resolved_config_is_the_wandb_run_config(wandb_fit):
    save_dir, run = wandb_fit
    saved = yaml.safe_load((save_dir / "lit_gan" / run.run.run_id / "config.yaml").read_text())
    assert saved["data"]["init_args"]["num_train"] == 512  # a command-line override, resolved
    for key, value in saved.items():
        assert run.config.get(key) == value, f"wandb config[{key!r}] differs from config.yaml"
    assert run.config["trainer"]["logger"]["class_path"] == "lightning.pytorch.loggers.WandbLogger"
    assert run.config["lr_g"] == saved["model"]["init_args"]["lr_g"]  # Lightning's own hparams still there


def test_run_has_its_own_directory_and_the_experiment_name(wandb_fit):
    save_dir, run = wandb_fit
    assert run.run.project == "lit_gan"
    assert run.run.display_name == "quickstart"  # kept from the experiment's CSVLogger
    run_dir = save_dir / "lit_gan" / run.run.run_id
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert not (save_dir / "config.yaml").exists()


def test_ckpt_path_last_finds_the_wandb_run_s_checkpoint(wandb_fit, tmp_path):
    """wandb loggers have no root_dir: `--ckpt_path last` looks in <save_dir>/<name>/<run id>/."""
    save_dir, run = wandb_fit
    last = save_dir / "lit_gan" / run.run.run_id / "checkpoints" / "last.ckpt"
    proc = subprocess.run(fit_args(save_dir, iterations=ITERATIONS + 5) + ["--ckpt_path", "last"], cwd=tmp_path,
                          env=offline_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"Resuming from {last}" in proc.stdout + proc.stderr
