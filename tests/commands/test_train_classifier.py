"""`python -m lit_gan train-classifier` end to end on tiny MNIST-format files (one epoch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.evaluation.registry import FeatureContext, build
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.feature_module import load_feature_module
from lit_gan.data.celeba_attributes import CELEBA_ATTRIBUTES
from tests.data.celeba_fixtures import value, write_celeba_with_attributes

REPO = Path(__file__).resolve().parents[2]


def tiny_config(tmp_path: Path, mnist_root: Path, out: str | None = "extractors/clf.pt2") -> Path:
    """A one-epoch run of a width-4 classifier on the tiny fixture (192 train, 64 val, 64 test)."""
    config = {
        "seed_everything": 0,
        "trainer": {
            "accelerator": "cpu", "devices": 1, "max_epochs": 1,
            "enable_progress_bar": False, "enable_model_summary": False, "log_every_n_steps": 1,
            "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger",
                       "init_args": {"save_dir": str(tmp_path / "runs"), "name": "clf"}},
        },
        "data": {"class_path": "lit_gan.data.MNISTDataModule",
                 "init_args": {"root": str(mnist_root), "val_size": 64, "batch_size": 32}},
        "model": {"class_path": "lit_gan.classifier.ImageClassifier",
                  "init_args": {"width": 4, "feature_dim": 8}},
    }
    if out is not None:
        config["out"] = out
    path = tmp_path / "clf.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def train_classifier(capsys, *args) -> tuple[int, str, str]:
    """Runs `python -m lit_gan train-classifier ...` in process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["train-classifier", *map(str, args)])
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def check_extractor(path: Path, printed: dict) -> dict:
    module, meta = load_feature_module(path)
    features, logits = module(torch.rand(3, 1, 28, 28) * 2 - 1)
    assert features.shape == (3, 8) and logits.shape == (3, 10)
    assert meta["test_accuracy"] == printed["test_accuracy"]
    assert meta["feature_dim"] == printed["feature_dim"] == 8
    assert meta["num_classes"] == printed["num_classes"] == 10
    return meta


def test_trains_tests_and_saves_an_extractor(tmp_path, monkeypatch, capsys, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    code, out, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tiny_mnist),
                                      "--trainer.enable_progress_bar", "true")
    assert code == 0, err
    assert "Epoch 0" in err and len(out.strip().splitlines()) == 1  # stdout holds only the JSON line
    printed = last_json(out)
    assert set(printed) == {"out", "test_accuracy", "feature_dim", "num_classes"}
    assert printed["out"] == "extractors/clf.pt2" and 0.0 <= printed["test_accuracy"] <= 1.0
    assert f"test accuracy {printed['test_accuracy']:.4f}" in err
    meta = check_extractor(tmp_path / "extractors" / "clf.pt2", printed)
    assert meta["input_shape"] == [1, 28, 28]
    assert meta["class_names"] == [str(d) for d in range(10)]
    assert meta["dataset"] == "MNIST" and meta["test_images"] == 64 and meta["epochs"] == 1
    assert meta["seed"] == 0 and meta["model"]["init_args"]["width"] == 4
    assert not [k for k in meta["model"]["init_args"] if k.startswith("_")]
    run = tmp_path / "runs" / "clf" / "version_0"
    assert meta["run_dir"] == str(run)
    assert Path(meta["checkpoint"]).is_file() and Path(meta["checkpoint"]).parent == run / "checkpoints"
    assert (run / "config.yaml").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["out"] == "extractors/clf.pt2"
    assert "data_shape" not in saved["model"]["init_args"]  # linked from the data, never stated

    # the same command again: refused before any training, the file untouched
    before = (tmp_path / "extractors" / "clf.pt2").stat().st_mtime_ns
    code, out, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tiny_mnist))
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert (tmp_path / "extractors" / "clf.pt2").stat().st_mtime_ns == before
    assert not (tmp_path / "runs" / "clf" / "version_1").exists()

    code, out, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tiny_mnist), "--overwrite")
    assert code == 0, err
    assert (tmp_path / "extractors" / "clf.pt2").stat().st_mtime_ns != before
    check_extractor(tmp_path / "extractors" / "clf.pt2", last_json(out))
    assert (tmp_path / "runs" / "clf" / "version_1" / "config.yaml").is_file()


def test_torchscript_output_and_command_line_overrides(tmp_path, monkeypatch, capsys, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    code, out, err = train_classifier(
        capsys, "--config", tiny_config(tmp_path, tiny_mnist), "--out", tmp_path / "clf.pt",
        "--model.init_args.feature_dim", "8", "--trainer.limit_train_batches", "2")
    assert code == 0, err
    printed = last_json(out)
    assert printed["out"] == str(tmp_path / "clf.pt")
    meta = check_extractor(tmp_path / "clf.pt", printed)
    assert meta["global_step"] == 2
    assert not (tmp_path / "extractors").exists()


def test_without_out_the_extractor_goes_into_the_run_directory(tmp_path, monkeypatch, capsys, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    code, out, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tiny_mnist, out=None),
                                      "--trainer.limit_train_batches", "1")
    assert code == 0, err
    path = tmp_path / "runs" / "clf" / "version_0" / "classifier.pt2"
    assert last_json(out)["out"] == str(path) and path.is_file()


@pytest.mark.parametrize("out, needle", [("clf.onnx", ".pt2"), (".", "is a folder")])
def test_bad_out_is_refused_before_training(tmp_path, monkeypatch, capsys, tiny_mnist, out, needle):
    monkeypatch.chdir(tmp_path)
    code, _, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tiny_mnist), "--out", out)
    assert code == 2 and needle in err
    assert not (tmp_path / "runs").exists()


def test_missing_data_names_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tmp_path / "nowhere"))
    assert code == 2 and "mnist data not found" in err and str(tmp_path / "nowhere") in err
    assert not (tmp_path / "extractors").exists()


def test_a_datamodule_without_classes_is_refused(tmp_path, monkeypatch, capsys, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    code, _, err = train_classifier(capsys, "--config", tiny_config(tmp_path, tiny_mnist),
                                    "--data", "lit_gan.data.Toy2DDataModule")
    assert code == 2 and "Toy2DDataModule" in err and "num_classes, class_names" in err
    assert not (tmp_path / "runs").exists()


def test_shipped_configs_parse(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name, out in (("fashion_mnist", "extractors/fashion_mnist_classifier.pt2"),
                      ("mnist", "extractors/mnist_classifier.pt2"),
                      ("celeba_attributes", "extractors/celeba_attributes.pt2")):
        code, printed, err = train_classifier(
            capsys, "--config", REPO / "experiments" / "classifiers" / f"{name}.yaml", "--print_config")
        assert code in (0, None), err
        config = yaml.safe_load(printed)
        assert config["out"] == out and config["seed_everything"] == 0
        assert config["model"]["class_path"] == "lit_gan.classifier.ImageClassifier"
        assert config["checkpoint"]["monitor"] == "val/acc"
    assert not (tmp_path / "runs").exists()


# ---- a multi-label attribute classifier on a tiny CelebA (20 JPEGs: 16 train, 2 val, 2 test) ----

ATTRS = ["Eyeglasses", "Male", "Smiling"]


def tiny_celeba_config(tmp_path: Path, root: Path, attributes: list[str] | None = ATTRS) -> Path:
    path = tiny_config(tmp_path, root, out="extractors/attributes.pt2")
    config = yaml.safe_load(path.read_text())
    config["data"] = {"class_path": "lit_gan.data.CelebADataModule",
                      "init_args": {"root": str(root), "image_size": 16, "crop": None, "batch_size": 8,
                                    "attributes": attributes}}
    path.write_text(yaml.safe_dump(config))
    return path


def test_attribute_classifier_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "celeba_data"
    write_celeba_with_attributes(root, layout="kaggle")
    code, out, err = train_classifier(capsys, "--config", tiny_celeba_config(tmp_path, root))
    assert code == 0, err
    printed = last_json(out)
    assert set(printed) == {"out", "test_accuracy", "feature_dim", "num_attributes"}
    assert printed["num_attributes"] == 3 and "3 attributes (mean accuracy)" in err

    path = tmp_path / "extractors" / "attributes.pt2"
    module, meta = load_feature_module(path)
    features, logits = module(torch.rand(4, 3, 16, 16) * 2 - 1)
    assert features.shape == (4, 8) and logits.shape == (4, 3)  # one logit per attribute
    assert meta["multilabel"] is True and meta["attribute_names"] == ATTRS and meta["num_attributes"] == 3
    assert "num_classes" not in meta and "class_names" not in meta  # not a K-class classifier
    assert set(meta["test_attribute_accuracy"]) == set(ATTRS)
    accuracies = list(meta["test_attribute_accuracy"].values())
    assert all(a in (0.0, 0.5, 1.0) for a in accuracies)  # 2 test images
    assert meta["test_accuracy"] == pytest.approx(sum(accuracies) / 3) == printed["test_accuracy"]
    share = {a: sum(value(i, CELEBA_ATTRIBUTES.index(a)) > 0 for i in (10, 20)) / 2 for a in ATTRS}  # test images
    assert meta["test_attribute_prevalence"] == share
    assert meta["input_shape"] == [3, 16, 16] and meta["dataset"] == "CelebADataModule" and meta["test_images"] == 2
    init_args = meta["model"]["init_args"]
    assert init_args["multilabel"] is True and init_args["attribute_names"] == ATTRS
    assert "num_classes" not in init_args and "class_names" not in init_args

    run = tmp_path / "runs" / "clf" / "version_0"
    logged = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val/acc", "train/acc", "val/acc_Eyeglasses", "test/acc_Smiling"} <= set(logged)
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["data"]["init_args"]["attributes"] == ATTRS
    assert "attribute_names" not in saved["model"]["init_args"]  # linked from the data, never stated

    # what metrics see: no classes. `classes` (class coverage) refuses it instead of counting argmaxes
    extractor = load_extractor(str(path))
    assert extractor.num_classes is None and extractor.class_names is None
    with pytest.raises(ValueError, match="multi-label attribute extractor"):
        build(["classes"], FeatureContext(1, extractor.num_classes if extractor.class_names else None, 2, 2))
    np.savez(tmp_path / "samples.npz", samples=np.zeros((4, 16, 16, 3), np.uint8))
    capsys.readouterr()

    def evaluate(metric: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exc:
            lit_gan_main(["evaluate", "--no-progress", "--samples", str(tmp_path / "samples.npz"), "--metrics", metric,
                          "--feature-extractor", str(path), "--data=lit_gan.data.CelebADataModule",
                          f"--data.init_args.root={root}", "--data.init_args.image_size=16",
                          "--data.init_args.crop=null"])
        return exc.value.code, capsys.readouterr().err

    code, err = evaluate("classes")
    assert code == 2 and "'classes' metric needs a classifier" in err and "multilabel: true" in err
    code, err = evaluate("is")  # nor does the Inception score read attribute logits as one class distribution
    assert code == 2 and "'is' metric reads the extractor's logits" in err and "multi-label" in err, err


def test_celeba_without_attributes_is_refused_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "celeba_data"
    write_celeba_with_attributes(root)
    code, _, err = train_classifier(capsys, "--config", tiny_celeba_config(tmp_path, root, attributes=None))
    assert code == 2 and "gives no labels to learn" in err and "attributes: [Eyeglasses, Male, Smiling]" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("problem, needle", [("unknown", "unknown CelebA attribute 'Glasses'"),
                                             ("no_file", "neither list_attr_celeba.txt nor list_attr_celeba.csv")])
def test_attribute_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys, problem, needle):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "celeba_data"
    meta = write_celeba_with_attributes(root)
    attributes = ["Male", "Glasses"] if problem == "unknown" else ATTRS
    if problem == "no_file":
        (meta / "list_attr_celeba.txt").unlink()
    code, out, err = train_classifier(capsys, "--config", tiny_celeba_config(tmp_path, root, attributes=attributes))
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "extractors").exists()
