"""Class-conditional checkpoints through `generate` and `evaluate`: labels in the output,
accuracy / intra-FID from the registry, and the bad inputs, each one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.checkpoints import load_model
from lit_gan.evaluation.sampling import fixed_noise
from lit_gan.models import DCGAN, ConditionalDCGAN
from tests.conftest import write_tiny_mnist
from tests.metrics.helpers import write_tiny_extractor


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("conditional")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    L.seed_everything(0, verbose=False)
    mnist = write_tiny_mnist(root / "mnist", n_train=160, n_test=96)
    out = {"root": root, "mnist": mnist, "extractor": write_tiny_extractor(root / "tiny.pt2")}
    for name, model in (("cdcgan", ConditionalDCGAN(num_classes=10, data_shape=(1, 28, 28), latent_dim=8,
                                                    generator_options={"features": 8},
                                                    discriminator_options={"features": 8})),
                        ("dcgan", DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                                        discriminator_options={"features": 8}))):
        trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=model.max_steps_for(2), limit_val_batches=0,
                            logger=False, enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, default_root_dir=root)
        trainer.fit(model, datamodule=MNISTDataModule(root=str(mnist), val_size=32, batch_size=16))
        trainer.save_checkpoint(root / f"{name}.ckpt")
        out[name] = root / f"{name}.ckpt"
    yield out
    torch.set_num_threads(threads)


def run(capsys, command: str, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main([command, "--no-progress", *map(str, args)])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_per_class_writes_labels_in_class_order_and_matches_the_model(setup, capsys, tmp_path):
    out = tmp_path / "s.npz"
    code, _, err = run(capsys, "generate", "--ckpt", setup["cdcgan"], "--per-class", 3, "--out", out, "--seed", 4)
    assert code == 0, err
    with np.load(out) as f:
        samples, labels, classes = f["samples"], f["labels"], int(f["num_classes"])
    assert samples.shape == (30, 28, 28, 1) and labels.dtype == np.int64 and classes == 10
    assert labels.tolist() == [c for c in range(10) for _ in range(3)]
    # sample i is G(z_i of seed 4, y_i): the one protocol, whatever writes it
    model = load_model(setup["cdcgan"])
    direct = model.generate(fixed_noise(model, 30, 4), torch.from_numpy(labels))
    expected = ((direct.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(samples, expected)
    assert not np.array_equal(samples[0], samples[3])  # another class, another image


def test_labels_cycle_and_name_the_png_files(setup, capsys, tmp_path):
    code, _, err = run(capsys, "generate", "--ckpt", setup["cdcgan"], "--labels", "0,3,7", "--num", 7,
                       "--out", tmp_path / "npz.npz")
    assert code == 0, err
    with np.load(tmp_path / "npz.npz") as f:
        assert f["labels"].tolist() == [0, 3, 7, 0, 3, 7, 0]
    code, _, err = run(capsys, "generate", "--ckpt", setup["cdcgan"], "--num", 12, "--out", tmp_path / "png")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert names[:3] == ["000000_y0.png", "000001_y1.png", "000002_y2.png"] and names[-1] == "000011_y1.png"
    # --overwrite clears the labelled names too
    code, _, err = run(capsys, "generate", "--ckpt", setup["cdcgan"], "--num", 2, "--out", tmp_path / "png",
                       "--overwrite")
    assert code == 0 and sorted(p.name for p in (tmp_path / "png").iterdir()) == ["000000_y0.png", "000001_y1.png"]


@pytest.mark.parametrize("ckpt, args, message", [
    ("cdcgan", ["--labels", "0,12", "--num", 4], "out of range: this model has classes 0..9"),
    ("cdcgan", ["--labels", "a,b", "--num", 4], "class indices separated by commas"),
    ("cdcgan", ["--per-class", 2, "--num", 4], "leave out --num"),
    ("dcgan", ["--labels", "1", "--num", 4], "unconditional: it takes no labels"),
    ("dcgan", ["--per-class", 2], "unconditional"),
])
def test_bad_label_arguments_exit_2_and_write_nothing(setup, capsys, tmp_path, ckpt, args, message):
    out = tmp_path / "s.npz"
    code, _, err = run(capsys, "generate", "--ckpt", setup[ckpt], "--out", out, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def evaluate(capsys, *args) -> tuple[int, dict | None, str]:
    code, out, err = run(capsys, "evaluate", *args)
    return code, json.loads(out.strip().splitlines()[-1]) if code == 0 else None, err


def test_accuracy_and_intra_fid_of_a_checkpoint_and_of_its_samples_file(setup, capsys, tmp_path):
    common = ["--metrics", "fid,accuracy,intra_fid", "--feature-extractor", setup["extractor"], "--num-real", 96,
              "--kid-subsets", 5, "--cache-dir", tmp_path / "cache"]
    code, result, err = evaluate(capsys, "--ckpt", setup["cdcgan"], "--num", 100, *common)
    assert code == 0, err
    values = result["metrics"]
    assert 0.0 <= values["accuracy"] <= 1.0 and values["intra_fid"] > 0 and "fid_100" in values
    assert result["protocol"]["source"]["labels"]["num_classes"] == 10
    # the same samples through a file: the same numbers
    code, _, err = run(capsys, "generate", "--ckpt", setup["cdcgan"], "--num", 100, "--out", tmp_path / "s.npz")
    assert code == 0, err
    code, again, err = evaluate(capsys, "--samples", tmp_path / "s.npz", "--config",
                                "experiments/radford2015/cdcgan_fashion_mnist.yaml",
                                f"--data.init_args.root={setup['mnist']}", "--data.init_args.variant=mnist",
                                "--data.init_args.also_look_in=[]", "--data.init_args.download=false",
                                "--data.init_args.val_size=32", *common)
    assert code == 0, err
    assert again["metrics"] == pytest.approx(values, rel=1e-9)


@pytest.mark.parametrize("ckpt, metrics, extractor, message", [
    ("cdcgan", "accuracy", None, "needs a classifier feature extractor"),
    ("dcgan", "accuracy", "tiny", "scores class-conditional samples"),
    ("dcgan", "intra_fid", "tiny", "scores class-conditional samples"),
])
def test_conditional_metrics_refuse_what_they_cannot_score(setup, capsys, tmp_path, ckpt, metrics, extractor,
                                                          message):
    from lit_gan.metrics.feature_module import save_feature_module

    if extractor is None:  # a feature module without classes
        extractor = save_feature_module(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 4)),
                                        tmp_path / "plain.pt2", torch.randn(2, 1, 28, 28))
    else:
        extractor = setup["extractor"]
    out = tmp_path / "r.json"
    code, _, err = evaluate(capsys, "--ckpt", setup[ckpt], "--num", 20, "--metrics", metrics, "--feature-extractor",
                            extractor, "--cache-dir", tmp_path / "cache", "--out", out)
    assert code == 2 and message in err, err
    assert not out.exists()
