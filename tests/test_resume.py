"""Resume: 2N epochs in one run == N epochs + `fit --ckpt_path last` + N more.

Runs on CPU with `trainer.deterministic: true`. Both optimizers (Adam moments), BatchNorm
running statistics, iteration counters and the RNG streams must come back, or the two
runs' weights drift apart within a few steps.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lit_gan.cli import main as cli_main


def _fit(tmp_path: Path, root: Path, save_dir: Path, max_epochs: int, *extra: str) -> None:
    cli_main([
        "fit",
        "--seed_everything", "7",
        "--trainer.accelerator", "cpu",
        "--trainer.devices", "1",
        "--trainer.deterministic", "true",
        "--trainer.max_epochs", str(max_epochs),
        "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false",
        "--trainer.logger.class_path", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir", str(save_dir),
        "--trainer.logger.init_args.name", "resume",
        "--samples.every_n_iterations", "0",
        "--data", "lit_gan.data.MNISTDataModule",
        "--data.init_args.root", str(root),
        "--data.init_args.val_size", "64",
        "--data.init_args.batch_size", "32",
        "--model", "lit_gan.models.DCGAN",
        "--model.init_args.generator_options", "{features: 8}",
        "--model.init_args.discriminator_options", "{features: 8}",
        "--model.init_args.n_critic", "2",
        *extra,
    ])


def _last(save_dir: Path, version: int) -> dict:
    return torch.load(save_dir / "resume" / f"version_{version}" / "checkpoints" / "last.ckpt", weights_only=False)


def test_resume_at_epoch_boundary_is_exact(tmp_path, tiny_mnist, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fit(tmp_path, tiny_mnist, tmp_path / "straight", 4)
    _fit(tmp_path, tiny_mnist, tmp_path / "split", 2)
    _fit(tmp_path, tiny_mnist, tmp_path / "split", 4, "--ckpt_path", "last")

    straight, resumed = _last(tmp_path / "straight", 0), _last(tmp_path / "split", 1)
    assert not (tmp_path / "split" / "resume" / "version_1" / "checkpoints" / "last.ckpt").samefile(
        tmp_path / "split" / "resume" / "version_0" / "checkpoints" / "last.ckpt"
    )
    # 192 train images / 32 = 6 batches an epoch, n_critic 2 -> 3 iterations an epoch.
    assert straight["lit_gan"]["iterations"] == resumed["lit_gan"]["iterations"] == 12
    assert straight["global_step"] == resumed["global_step"] == 12 * 3
    assert _last(tmp_path / "split", 0)["lit_gan"]["iterations"] == 6
    for key, value in straight["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=1e-5, atol=1e-6, msg=key)
    for opt_a, opt_b in zip(straight["optimizer_states"], resumed["optimizer_states"]):
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values()):
            torch.testing.assert_close(state_b["exp_avg"], state_a["exp_avg"], rtol=1e-5, atol=1e-7)


def test_resume_changes_nothing_in_the_earlier_run(tmp_path, tiny_mnist, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fit(tmp_path, tiny_mnist, tmp_path / "runs", 1)
    first = tmp_path / "runs" / "resume" / "version_0"
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    _fit(tmp_path, tiny_mnist, tmp_path / "runs", 2, "--ckpt_path", "last")
    after = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    assert before == after
    assert (tmp_path / "runs" / "resume" / "version_1" / "checkpoints" / "last.ckpt").is_file()
