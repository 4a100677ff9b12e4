"""The metric registry: every name says what it writes, and writes exactly that; `evaluate`
now serves the sample metrics (modes) too."""

from __future__ import annotations

import json

import pytest
import torch

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.evaluation import registry
from lit_gan.metrics.extractors import Features
from lit_gan.reproduce.table import TableError, load_table


@pytest.fixture(scope="module")
def toy_ckpt(tmp_path_factory) -> str:
    """A 2-D GAN after 2 iterations on the ring, saved as a checkpoint that records its data."""
    import lightning as L

    from lit_gan.data import Toy2DDataModule
    from lit_gan.models import GAN

    root = tmp_path_factory.mktemp("toy")
    L.seed_everything(0, verbose=False)
    model = GAN(data_shape=(2,), latent_dim=2, noise="normal", generator="mlp", discriminator="mlp",
                generator_options={"hidden": [8], "output": "linear"}, discriminator_options={"hidden": [8]},
                optimizer="adam", lr_g=1e-3, lr_d=1e-3, lr_schedule="constant", final_momentum=None)
    trainer = L.Trainer(accelerator="cpu", max_steps=4, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=root)
    trainer.fit(model, datamodule=Toy2DDataModule(num_train=32, num_val=8, batch_size=16))
    trainer.save_checkpoint(root / "toy.ckpt")
    return str(root / "toy.ckpt")


def test_feature_metrics_write_the_keys_the_registry_names():
    torch.manual_seed(0)
    n, classes = 60, 3
    real = Features(torch.randn(n, 5, dtype=torch.float64), torch.randn(n, classes, dtype=torch.float64))
    fake = Features(torch.randn(n, 5, dtype=torch.float64) + 0.5, torch.randn(n, classes, dtype=torch.float64))
    labels = torch.arange(n) % classes
    ctx = registry.FeatureContext(5, classes, n, n, kid_subsets=3, kid_subset_size=20, label_classes=classes)
    for name in registry.FEATURE_METRICS:
        metrics = registry.build([name], ctx)
        registry.update(metrics, real, real=True, labels=labels)
        registry.update(metrics, fake, real=False, labels=labels)
        assert sorted(registry.compute(metrics, n, seed=0)) == sorted(registry.keys(name, n)), name


def test_unknown_names_and_floors_of_model_metrics_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown metrics \\['fld'\\]"):
        registry.check_names(["fid", "fld"])
    assert registry.needs_a_model("modes") and registry.needs_a_model("paired") and not registry.needs_a_model("fid")
    table = tmp_path / "t.yaml"
    table.write_text("columns: [{metric: modes_covered}]\nrows:\n  - {name: f, config: experiments/toy/ring8.yaml,"
                     " floor: train, evaluate: {metrics: modes}}\n")
    with pytest.raises(TableError, match="need a model"):
        load_table(table)


def test_evaluate_serves_modes_on_a_toy_checkpoint(toy_ckpt, capsys):
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--ckpt", toy_ckpt, "--metrics", "modes", "--num", "500",
                      "--min-count", "5"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result["metrics"]) == set(registry.keys("modes", 500))
    assert result["protocol"]["modes"]["min_count"] == 5 and result["protocol"]["modes"]["samples"] == 500
    assert sum(result["protocol"]["modes"]["mode_counts"]) == round(result["metrics"]["high_quality_fraction"] * 500)


def test_modes_runs_under_two_processes_and_bad_metrics_fail_before_spawning(toy_ckpt, tmp_path, capsys):
    """modes is computed (identically) on every rank; accuracy on an unconditional checkpoint
    stops in the parent, in one line. (paired under two processes: tests/commands/test_translate.py)"""
    ckpt = toy_ckpt

    def evaluate(*args):
        with pytest.raises(SystemExit) as exc:
            lit_gan_main(["evaluate", "--no-progress", "--ckpt", ckpt, *args])
        out, err = capsys.readouterr()
        return exc.value.code, out, err

    code, out, err = evaluate("--metrics", "modes", "--num", "300", "--devices", "1")
    assert code == 0, err
    one = json.loads(out.strip().splitlines()[-1])["metrics"]
    code, out, err = evaluate("--metrics", "modes", "--num", "300", "--devices", "2", "--accelerator", "cpu")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["metrics"] == one
    from tests.metrics.helpers import write_tiny_extractor

    code, out, err = evaluate("--metrics", "accuracy", "--devices", "2", "--accelerator", "cpu",
                              "--feature-extractor", str(write_tiny_extractor(tmp_path / "tiny.pt2")))
    assert code == 2 and "scores class-conditional samples" in err and len(err.strip().splitlines()) == 1, err


def test_feature_metrics_compute_in_the_registry_order_whatever_the_names_order():
    torch.manual_seed(0)
    real = Features(torch.randn(80, 4, dtype=torch.float64), torch.randn(80, 3, dtype=torch.float64))
    fake = Features(torch.randn(80, 4, dtype=torch.float64) + 0.3, torch.randn(80, 3, dtype=torch.float64))
    results = []
    for names in (["kid", "is"], ["is", "kid"]):
        metrics = registry.build(names, registry.FeatureContext(4, 3, 80, 80, kid_subsets=4, kid_subset_size=30))
        assert list(metrics) == ["kid", "is"]
        registry.update(metrics, real, real=True)
        registry.update(metrics, fake, real=False)
        results.append(registry.compute(metrics, 80, seed=1))
    assert results[0] == results[1]
