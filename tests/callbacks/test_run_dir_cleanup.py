"""RunDirCleanup: a fit that fails before its first step leaves no empty version folder, and
nothing else is ever removed."""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import pytest
import yaml
from lightning.pytorch.loggers import CSVLogger

from lit_gan.callbacks.run_dir_cleanup import RunDirCleanup, holds_only_startup_files
from lit_gan.cli import main
from lit_gan.data import Toy2DDataModule
from lit_gan.models import GAN


@pytest.fixture(autouse=True)
def no_pytest_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


def mnist_args(tmp_path: Path, root: Path, logger: str = "CSVLogger", *extra: str) -> list[str]:
    config = {
        "trainer": {"accelerator": "cpu", "devices": 1, "enable_progress_bar": False, "enable_model_summary": False,
                    "logger": {"class_path": f"lightning.pytorch.loggers.{logger}",
                               "init_args": {"save_dir": str(tmp_path / "runs"), "name": "dcgan"}}},
        "max_iterations": 2,
        "samples": {"every_n_iterations": 0},
        "data": {"class_path": "lit_gan.data.MNISTDataModule",
                 "init_args": {"root": str(root), "download": False, "val_size": 64, "batch_size": 32}},
        "model": {"class_path": "lit_gan.models.DCGAN",
                  "init_args": {"latent_dim": 8, "generator_options": {"features": 8},
                                "discriminator_options": {"features": 8}}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return ["fit", "--config", str(path), *extra]


@pytest.mark.parametrize("logger", ["CSVLogger", "TensorBoardLogger"])
def test_missing_data_leaves_no_run_folder(tmp_path, monkeypatch, logger):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError):
        main(mnist_args(tmp_path, tmp_path / "no_data_here", logger))
    assert not (tmp_path / "runs").exists()  # version_0, runs/dcgan and runs: all made by this run


def test_only_the_failed_runs_folder_goes(tmp_path, monkeypatch, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    main(mnist_args(tmp_path, tiny_mnist))  # a good run: version_0
    good = tmp_path / "runs" / "dcgan" / "version_0"
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "runs").rglob("*"))
    assert (good / "checkpoints" / "last.ckpt").is_file()
    with pytest.raises(FileNotFoundError):
        main(mnist_args(tmp_path, tmp_path / "no_data_here"))  # made version_1, then failed
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "runs").rglob("*")) == before


def test_an_existing_folder_is_never_removed(tmp_path, monkeypatch):
    """`--trainer.logger.init_args.version 0` into a folder that was there before: kept,
    even though it holds only start-up files."""
    monkeypatch.chdir(tmp_path)
    existing = tmp_path / "runs" / "dcgan" / "version_0"
    existing.mkdir(parents=True)
    (existing / "hparams.yaml").write_text("{}\n")
    with pytest.raises(FileNotFoundError):
        main(mnist_args(tmp_path, tmp_path / "no_data_here", "CSVLogger", "--trainer.logger.init_args.version", "0"))
    assert (existing / "hparams.yaml").is_file()


def failing_fit(tmp_path: Path, fail_at: str, rank_zero: bool = True, monkeypatch=None) -> Path:
    """A tiny toy fit that raises in ``fail_at`` (a Callback hook); returns its version folder."""

    class Boom(L.Callback):
        pass

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    setattr(Boom, fail_at, boom)
    model = GAN(data_shape=(2,), latent_dim=4, generator="mlp", discriminator="mlp",
                generator_options={"hidden": [8], "output": "linear"}, discriminator_options={"hidden": [8]})
    trainer = L.Trainer(accelerator="cpu", max_steps=4, logger=CSVLogger(tmp_path / "runs", name="toy"),
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=0, callbacks=[Boom()])
    RunDirCleanup.attach(trainer)
    if not rank_zero:
        monkeypatch.setattr(type(trainer), "is_global_zero", property(lambda self: False))
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(model, Toy2DDataModule(num_train=256, num_val=64, batch_size=32))
    return tmp_path / "runs" / "toy" / "version_0"


def test_a_failure_after_the_first_step_keeps_the_folder(tmp_path):
    folder = failing_fit(tmp_path, "on_train_batch_end")  # after the first batch's optimizer steps
    assert folder.is_dir()


def test_a_failure_before_the_first_step_removes_it(tmp_path):
    folder = failing_fit(tmp_path, "on_train_start")
    assert not folder.exists() and not (tmp_path / "runs").exists()


def test_only_rank_zero_removes(tmp_path, monkeypatch):
    folder = failing_fit(tmp_path, "on_train_start", rank_zero=False, monkeypatch=monkeypatch)
    assert folder.is_dir()


def test_what_counts_as_nothing_of_value(tmp_path):
    folder = tmp_path / "version_0"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "hparams.yaml").write_text("{}\n")
    (folder / "events.out.tfevents.1.host.1.0").write_bytes(b"")
    (folder / "metrics.csv").write_text("epoch,step\n")
    assert holds_only_startup_files(folder, config_is_ours=False)
    (folder / "config.yaml").write_text("model: {}\n")
    assert not holds_only_startup_files(folder, config_is_ours=False)  # another run's config
    assert holds_only_startup_files(folder, config_is_ours=True)
    (folder / "metrics.csv").write_text("epoch,step\n0,1\n")
    assert not holds_only_startup_files(folder, config_is_ours=True)  # a logged row
    (folder / "metrics.csv").write_text("epoch,step\n")
    (folder / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert not holds_only_startup_files(folder, config_is_ours=True)
