"""Subprocess helpers for the tests of real `python -m lit_gan fit` processes (signals,
divergence): a small ring-of-Gaussians run, and test-only callbacks loaded from a module
written next to the run (so nothing test-only ships in the package)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

CALLBACKS = '''
import os, signal
import lightning as L
import torch


class SignalAt(L.Callback):
    """Sends SIGNAL_AT_SIGNUM to this process (rank SIGNAL_AT_RANK only) after batch SIGNAL_AT_BATCH."""
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (pl_module.batches_seen == int(os.environ["SIGNAL_AT_BATCH"])
                and trainer.global_rank == int(os.environ.get("SIGNAL_AT_RANK", "0"))):
            os.kill(os.getpid(), int(os.environ.get("SIGNAL_AT_SIGNUM", signal.SIGTERM)))


class PoisonAt(L.Callback):
    """Writes NaN into one weight of D after batch POISON_AT_BATCH (a diverged step, made on purpose)."""
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if pl_module.batches_seen == int(os.environ["POISON_AT_BATCH"]):
            with torch.no_grad():
                next(pl_module.discriminator.parameters()).view(-1)[0] = float("nan")
'''


def write_callbacks(folder: Path) -> Path:
    (folder / "test_callbacks.py").write_text(CALLBACKS)
    return folder


def ring_args(save_dir: Path, *extra: str) -> list[str]:
    """`fit` arguments of a ring run: 512 points, batches of 64 = 8 batches an epoch; n_critic 2 =
    4 generator iterations an epoch, 3 optimizer steps each. ``extra`` overrides (the last wins)."""
    return [
        "--seed_everything", "7",
        "--trainer.accelerator", "cpu", "--trainer.deterministic", "true",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--trainer.logger.class_path", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir", str(save_dir), "--trainer.logger.init_args.name", "r",
        "--samples.every_n_iterations", "0",
        "--data", "lit_gan.data.Toy2DDataModule", "--data.init_args.num_train", "512",
        "--data.init_args.num_val", "64", "--data.init_args.batch_size", "64",
        "--model", "lit_gan.models.GAN", "--model.init_args.generator_options", "{hidden: [16]}",
        "--model.init_args.discriminator", "mlp", "--model.init_args.discriminator_options", "{hidden: [16]}",
        "--model.init_args.optimizer", "adam", "--model.init_args.lr_g", "1e-3", "--model.init_args.lr_d", "1e-3",
        "--model.init_args.lr_schedule", "constant", "--model.init_args.final_momentum", "null",
        "--model.init_args.n_critic", "2",
        *extra,
    ]


def fit_command(save_dir: Path, *extra: str) -> list[str]:
    """``python -m lit_gan fit`` of the ring run (``ring_args``) as a command line."""
    return [sys.executable, "-m", "lit_gan", "fit", *ring_args(save_dir, *extra)]


def _pythonpath(cwd: Path) -> str:
    """The run's folder (test_callbacks.py) first, then any PYTHONPATH already set (a checkout
    other than the installed one, e.g. a git worktree, stays the one under test)."""
    return os.pathsep.join(p for p in (str(cwd), os.environ.get("PYTHONPATH", "")) if p)


def run(cwd: Path, cmd: list[str], env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=_pythonpath(cwd), **(env or {}))
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def popen(cwd: Path, cmd: list[str]) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=_pythonpath(cwd))
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def last(save_dir: Path, version: int) -> dict:
    return torch.load(save_dir / "r" / f"version_{version}" / "checkpoints" / "last.ckpt", weights_only=False)


def assert_same_run(a: dict, b: dict) -> None:
    assert (b["lit_gan"]["iterations"], b["epoch"], b["global_step"]) == (a["lit_gan"]["iterations"], a["epoch"], a["global_step"])
    for key, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], value, rtol=0, atol=0, msg=key)


def dcgan_config(tmp_path: Path, mnist_root: Path) -> Path:
    """A 3-iteration DCGAN on the MNIST files in ``mnist_root`` (there or not), logging under ``tmp_path/runs``."""
    config = {
        "seed_everything": 0,
        "max_iterations": 3,
        "trainer": {
            "accelerator": "cpu",
            "devices": 1,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger",
                       "init_args": {"save_dir": str(tmp_path / "runs"), "name": "dcgan"}},
            "callbacks": [{"class_path": "lit_gan.callbacks.interpolation.LatentInterpolation",
                           "init_args": {"rows": 2, "steps": 3}}],
        },
        "samples": {"every_n_iterations": 0},
        "data": {"class_path": "lit_gan.data.MNISTDataModule",
                 "init_args": {"root": str(mnist_root), "val_size": 64, "batch_size": 32}},
        "model": {"class_path": "lit_gan.models.DCGAN",
                  "init_args": {"latent_dim": 16, "generator_options": {"features": 8},
                                "discriminator_options": {"features": 8}}},
    }
    path = tmp_path / "dcgan.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
