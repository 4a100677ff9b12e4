"""`python -m lit_gan evaluate` end to end on a tiny DCGAN checkpoint and a tiny extractor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data import MNISTDataModule
from lit_gan.metrics import inception
from lit_gan.models import DCGAN
from tests.conftest import write_tiny_mnist
from tests.metrics.helpers import write_tiny_extractor


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("evaluate")
    L.seed_everything(0, verbose=False)
    mnist = write_tiny_mnist(root / "mnist", n_train=160, n_test=96)
    model = DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                  discriminator_options={"features": 8})
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=model.max_steps_for(2), limit_val_batches=0,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=root)
    trainer.fit(model, datamodule=MNISTDataModule(root=str(mnist), val_size=32, batch_size=16))
    trainer.save_checkpoint(root / "dcgan.ckpt")
    return {"root": root, "ckpt": root / "dcgan.ckpt", "mnist": mnist, "extractor": write_tiny_extractor(root / "tiny.pt2")}


def evaluate(capsys, *args) -> tuple[int, dict | None, str]:
    """Runs `python -m lit_gan evaluate ...` in process: (exit code, JSON of the last stdout line, stderr)."""
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--no-progress", *map(str, args)])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return exc.value.code, json.loads(lines[-1]) if exc.value.code == 0 else None, err


def test_checkpoint_evaluation_prints_metrics_and_protocol(setup, capsys, tmp_path):
    code, result, err = evaluate(capsys, "--ckpt", setup["ckpt"], "--num", 120, "--metrics", "fid,kid,is,classes",
                                 "--feature-extractor", setup["extractor"], "--cache-dir", tmp_path / "cache",
                                 "--out", tmp_path / "result.json")
    assert code == 0, err
    assert set(result["metrics"]) == {"fid_120", "kid_120", "kid_120_std", "is_120", "is_120_std",
                                      "classes_covered", "classes_kl"}
    assert all(np.isfinite(v) for v in result["metrics"].values())
    card = result["protocol"]
    assert (card["n_real"], card["n_fake"], card["split"], card["seed"]) == (96, 120, "test", 0)
    assert card["extractor"]["name"] == "tiny.pt2" and len(card["extractor"]["sha256"]) == 64
    assert card["kid"]["subset_size"] == 96  # shrunk to the 96 real images
    assert {"torch", "torchmetrics", "lit_gan"} <= set(card["versions"]) and card["resize"] == "none"
    assert json.loads((tmp_path / "result.json").read_text()) == result


def test_samples_file_gives_the_checkpoint_numbers(setup, capsys, tmp_path):
    """evaluate --ckpt == generate + evaluate --samples (same seed, same samples)."""
    common = ["--metrics", "fid,kid", "--feature-extractor", setup["extractor"], "--cache-dir", tmp_path / "cache"]
    code, from_ckpt, err = evaluate(capsys, "--ckpt", setup["ckpt"], "--num", 100, "--seed", 3, *common)
    assert code == 0, err
    with pytest.raises(SystemExit):
        lit_gan_main(["generate", "--ckpt", str(setup["ckpt"]), "--num", "100", "--seed", "3",
                      "--out", str(tmp_path / "s.npz"), "--no-progress"])
    capsys.readouterr()
    code, from_file, err = evaluate(capsys, "--samples", tmp_path / "s.npz", "--seed", 3, "--config",
                                    "experiments/radford2015/dcgan_mnist.yaml",
                                    f"--data.init_args.root={setup['mnist']}", "--data.init_args.val_size=32", *common)
    assert code == 0, err
    assert from_file["metrics"] == pytest.approx(from_ckpt["metrics"], rel=1e-9)


def test_parzen_window_through_evaluate(setup, capsys):
    code, result, err = evaluate(capsys, "--ckpt", setup["ckpt"], "--num", 50, "--metrics", "parzen")
    assert code == 0, err
    assert set(result["metrics"]) == {"parzen_ll", "parzen_ll_sem", "parzen_sigma"}
    parzen = result["protocol"]["parzen"]
    best = parzen["sigmas"][int(np.argmax(parzen["val_mean_per_sigma"]))]
    assert result["metrics"]["parzen_sigma"] == best  # chosen on validation, not on test
    assert result["protocol"]["parzen"]["n_val"] == 32 and result["protocol"]["parzen"]["n_test"] == 96


def test_offline_inception_fails_clearly(setup, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr("torch.hub._hub_dir", None)
    monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(inception, "WEIGHTS_URL", "http://127.0.0.1:9/" + inception.WEIGHTS_FILE)
    code, _, err = evaluate(capsys, "--ckpt", setup["ckpt"], "--num", 10, "--metrics", "fid")
    assert code == 2
    assert inception.WEIGHTS_FILE in err and "hub/checkpoints" in err and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of --ckpt"),
    (["--ckpt", "missing.ckpt"], "checkpoint not found"),
    (["--samples", "x.npz", "--ckpt", "y.ckpt"], "exactly one of --ckpt"),
    (["--samples", "x.npz"], "no real data"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, args, message):
    code, _, err = evaluate(capsys, *args)
    assert code == 2 and message in err


def test_samples_of_another_size_are_refused(setup, capsys, tmp_path):
    np.savez(tmp_path / "s.npz", samples=np.zeros((10, 32, 32, 1), np.uint8))
    code, _, err = evaluate(capsys, "--samples", tmp_path / "s.npz", "--metrics", "fid", "--feature-extractor",
                            setup["extractor"], "--data=lit_gan.data.MNISTDataModule",
                            f"--data.init_args.root={setup['mnist']}", "--data.init_args.val_size=32")
    assert code == 2 and "image_size" in err


def test_two_processes_give_the_one_process_numbers(setup, tmp_path):
    """The point of the protocol: --devices 2 (CPU, gloo) == --devices 1, to 1e-4 relative."""
    np.savez(tmp_path / "s.npz", samples=np.random.default_rng(0).integers(0, 256, (101, 28, 28, 1), dtype=np.uint8))
    results = {}
    for devices in (1, 2):
        cmd = [sys.executable, "-m", "lit_gan", "evaluate", "--samples", str(tmp_path / "s.npz"),
               "--metrics", "fid,kid,is,classes,parzen", "--feature-extractor", str(setup["extractor"]),
               "--kid-subsets", "20", "--kid-subset-size", "50", "--cache-dir", str(tmp_path / f"cache{devices}"),
               "--data=lit_gan.data.MNISTDataModule", f"--data.init_args.root={setup['mnist']}",
               "--data.init_args.val_size=32", "--devices", str(devices), "--accelerator", "cpu", "--no-progress"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[2],
                              env=dict(os.environ, OMP_NUM_THREADS="1"))
        assert done.returncode == 0, done.stderr[-3000:]
        results[devices] = json.loads(done.stdout.strip().splitlines()[-1])
    one, two = results[1]["metrics"], results[2]["metrics"]
    assert results[2]["protocol"]["processes"] == 2
    for key in ("fid_101", "kid_101"):
        assert two[key] == pytest.approx(one[key], rel=1e-4)
    assert two == pytest.approx(one, rel=1e-4)  # IS, class coverage and Parzen as well
