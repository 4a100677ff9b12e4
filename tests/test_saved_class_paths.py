"""Class paths that saved configs name keep working after the classes moved:
``lit_gan.metrics.callback.GenerativeMetrics`` and ``lit_gan.metrics.modes.ModeCoverage``
(now in lit_gan.callbacks) in a ``fit --config`` of a run's config.yaml."""

from __future__ import annotations

import csv
import sys

import pytest
import torch
import yaml

from lit_gan.cli import main
from tests.metrics.helpers import write_tiny_extractor
from tests.test_cli import QUICKSTART, dcgan_config


@pytest.fixture(autouse=True)
def one_thread_and_plain_argv(monkeypatch):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setattr(sys, "argv", ["lit_gan"])  # LightningCLI warns when it sees pytest's arguments
    yield
    torch.set_num_threads(threads)


def fit_with_old_callback(tmp_path, monkeypatch, base: str, callback: dict, *extra: str) -> dict:
    """``fit --config base --config old.yaml``, old.yaml's one callback named by its old path;
    returns the run's saved config.yaml and the logged metric keys."""
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump({"trainer": {"callbacks": [callback]}}))
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", base, "--config", str(old), "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", *extra])
    run = next((tmp_path / "runs").glob("*/version_0"))
    with open(run / "metrics.csv", newline="") as f:
        keys = {k for row in csv.DictReader(f) for k, v in row.items() if v}
    return {"config": yaml.safe_load((run / "config.yaml").read_text()), "keys": keys}


def callback_paths(config: dict) -> list[str]:
    return [c["class_path"] for c in config["trainer"]["callbacks"]]


def test_generative_metrics_by_its_old_class_path(tmp_path, monkeypatch, tiny_mnist):
    extractor = write_tiny_extractor(tmp_path / "tiny.pt2")
    callback = {"class_path": "lit_gan.metrics.callback.GenerativeMetrics",
                "init_args": {"metrics": ["fid"], "feature_extractor": str(extractor), "num_samples": 32,
                              "every_n_epochs": 0, "cache_dir": str(tmp_path / "cache"), "progress": False}}
    run = fit_with_old_callback(tmp_path, monkeypatch, str(dcgan_config(tmp_path, tiny_mnist)), callback)
    assert "val/fid_32" in run["keys"]  # the callback ran: the final weights were scored
    # the run's own config.yaml names the path as it was given: the alias must stay for it too
    assert callback_paths(run["config"]) == ["lit_gan.metrics.callback.GenerativeMetrics"]


def test_mode_coverage_by_its_old_class_path(tmp_path, monkeypatch):
    callback = {"class_path": "lit_gan.metrics.modes.ModeCoverage", "init_args": {"num_samples": 64, "min_count": 2}}
    run = fit_with_old_callback(tmp_path, monkeypatch, str(QUICKSTART), callback, "--max_iterations", "2",
                                "--data.init_args.num_train", "128", "--data.init_args.num_val", "64",
                                "--data.init_args.batch_size", "64", "--samples.every_n_iterations", "0")
    assert "val/modes_covered" in run["keys"]
    assert callback_paths(run["config"]) == ["lit_gan.metrics.modes.ModeCoverage"]
