"""GenerativeMetrics during fit: schedule, keys, protocol card, final weights at the end."""

from __future__ import annotations

import csv
import json

import lightning as L
import pytest
from lightning.pytorch.loggers import CSVLogger

from lit_gan.callbacks.generative_metrics import GenerativeMetrics
from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.features import Evaluator, Protocol
from lit_gan.evaluation.real import real_images
from lit_gan.evaluation.sources import GeneratorSource
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.reference_cache import ReferenceCache
from lit_gan.models import DCGAN
from tests.metrics.helpers import write_tiny_extractor


def tiny_dcgan() -> DCGAN:
    return DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                 discriminator_options={"features": 8})


def fit(tmp_path, tiny_mnist, callback, iterations: int):
    L.seed_everything(0, verbose=False)
    model = tiny_dcgan()
    dm = MNISTDataModule(root=str(tiny_mnist), val_size=64, batch_size=32)  # 6 iterations an epoch
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=model.max_steps_for(iterations),
                        logger=CSVLogger(tmp_path / "runs", name="m"), enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=1,
                        limit_val_batches=1, num_sanity_val_steps=0, callbacks=[callback])
    trainer.fit(model, datamodule=dm)
    rows = list(csv.DictReader(open(tmp_path / "runs" / "m" / "version_0" / "metrics.csv")))
    return model, dm, rows


def logged(rows, key):
    return [float(r[key]) for r in rows if r.get(key)]


def test_metrics_every_n_iterations_and_at_the_end(tmp_path, tiny_mnist):
    extractor = write_tiny_extractor(tmp_path / "tiny.pt2")
    callback = GenerativeMetrics(metrics=["fid", "kid", "classes"], feature_extractor=str(extractor), num_samples=64,
                                 split="val", every_n_epochs=0, every_n_iterations=4, kid_subsets=5,
                                 cache_dir=str(tmp_path / "cache"), progress=False)
    model, dm, rows = fit(tmp_path, tiny_mnist, callback, iterations=10)
    fids = logged(rows, "val/fid_64")
    assert len(fids) == 3, [(r["step"], r.get("train/iteration"), r.get("val/fid_64")) for r in rows]  # iterations 4, 8 and the final 10
    assert logged(rows, "val/classes_covered") and logged(rows, "val/kid_64")
    # the final value is that of the final weights under the same protocol
    real = real_images(dm, "val")
    evaluator = Evaluator(Protocol(["fid"], num_samples=64, split="val"), load_extractor(str(extractor)),
                          ReferenceCache(tmp_path / "cache"), progress=False)
    final = evaluator.evaluate(lambda rows_: GeneratorSource(model, evaluator.protocol.num_samples, 0).uint8_batches(rows_, 250), real, "check")
    assert fids[-1] == pytest.approx(final["fid_64"], rel=1e-9)
    assert evaluator.last_cache_hit is False  # another label: its own entry ...
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2  # ... beside the callback's one
    card = json.loads((tmp_path / "runs" / "m" / "version_0" / "metrics_protocol.json").read_text())
    assert card["n_fake"] == 64 and card["split"] == "val" and card["n_real"] == 64
    assert card["sampling"]["sample_mode"] == model.sample_mode  # how G's BatchNorm ran for these samples


def test_metrics_every_epoch_at_validation(tmp_path, tiny_mnist):
    extractor = write_tiny_extractor(tmp_path / "tiny.pt2")
    callback = GenerativeMetrics(metrics=["fid"], feature_extractor=str(extractor), num_samples=32,
                                 every_n_epochs=1, cache_dir=str(tmp_path / "cache"), progress=False)
    _, _, rows = fit(tmp_path, tiny_mnist, callback, iterations=12)  # 2 epochs of 6
    assert len(logged(rows, "val/fid_32")) == 2  # one per epoch; the end adds none (same weights)


def test_bad_settings_fail_before_training(tmp_path, tiny_mnist):
    with pytest.raises(ValueError, match="evaluate"):
        GenerativeMetrics(metrics=["parzen"])
    with pytest.raises(ValueError, match="unknown metrics"):
        GenerativeMetrics(metrics=["fdi"])
    callback = GenerativeMetrics(feature_extractor=str(tmp_path / "missing.pt2"))
    with pytest.raises(Exception, match="not found"):
        fit(tmp_path, tiny_mnist, callback, iterations=1)


def test_offline_inception_stops_before_training(tmp_path, tiny_mnist, monkeypatch):
    from lit_gan.metrics import inception

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr("torch.hub._hub_dir", None)
    monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(inception, "WEIGHTS_URL", "http://127.0.0.1:9/" + inception.WEIGHTS_FILE)
    with pytest.raises(inception.InceptionWeightsMissing, match="hub/checkpoints"):
        fit(tmp_path, tiny_mnist, GenerativeMetrics(feature_extractor="inception", progress=False), iterations=1)
