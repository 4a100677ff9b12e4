"""`generate`, `evaluate` and `translate` read the EMA of G when the run kept one; `--use-ema false`
reads the raw G; the evaluation card says which."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data import MNISTDataModule
from lit_gan.data.paired import PairedImageDataModule
from lit_gan.models import DCGAN
from lit_gan.models.pix2pix import Pix2Pix
from tests.commands.test_generate import train_and_save
from tests.conftest import write_tiny_mnist
from tests.metrics.helpers import write_tiny_extractor
from tests.models.translation_fixtures import write_inverted_pairs

EMA = {"ema_half_life_images": 100.0, "ema_rampup": None}  # beta 0.85 per step of 16: far from G after 2 steps


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("use_ema")
    mnist = write_tiny_mnist(root / "mnist", n_train=64, n_test=32)
    out = {"mnist": mnist, "extractor": write_tiny_extractor(root / "tiny.pt2")}
    for name, ema in (("ema", EMA), ("raw", {})):
        L.seed_everything(0, verbose=False)
        model = DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                      discriminator_options={"features": 8}, **ema)
        out[name] = train_and_save(model, MNISTDataModule(root=str(mnist), val_size=0, batch_size=16),
                                   root / f"{name}.ckpt")
    return out


def run(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main([*map(str, args)])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def samples(capsys, ckpt: Path, out: Path, *extra: str) -> np.ndarray:
    code, _, err = run(capsys, "generate", "--no-progress", "--ckpt", ckpt, "--num", 8, "--out", out, *extra)
    assert code == 0, err
    with np.load(out) as f:
        return f["samples"]


def test_generate_reads_the_ema_by_default(ckpts, tmp_path, capsys):
    default = samples(capsys, ckpts["ema"], tmp_path / "default.npz")
    ema = samples(capsys, ckpts["ema"], tmp_path / "ema.npz", "--use-ema", "true")
    raw = samples(capsys, ckpts["ema"], tmp_path / "raw.npz", "--use-ema", "false")
    assert np.array_equal(default, ema)
    assert not np.array_equal(default, raw)
    state = torch.load(ckpts["ema"], weights_only=False)["state_dict"]
    assert int(state["generator_ema.images_seen"]) == 2 * 16  # two G steps of 16 images


def test_use_ema_true_without_an_average_is_one_line(ckpts, tmp_path, capsys):
    code, _, err = run(capsys, "generate", "--no-progress", "--ckpt", ckpts["raw"], "--num", 8,
                       "--out", tmp_path / "x.npz", "--use-ema", "true")
    assert code == 2 and "kept no EMA of G" in err and len(err.strip().splitlines()) == 1
    samples(capsys, ckpts["raw"], tmp_path / "plain.npz")  # the default reads G when there is no average


@pytest.mark.parametrize("which, flag, weights", [("ema", [], "ema"), ("ema", ["--use-ema", "false"], "raw"),
                                                  ("raw", [], "raw")])
def test_evaluation_card_names_the_generator(ckpts, tmp_path, capsys, which, flag, weights):
    code, out, err = run(capsys, "evaluate", "--no-progress", "--ckpt", ckpts[which], "--num", 32,
                         "--metrics", "fid", "--feature-extractor", ckpts["extractor"],
                         "--cache-dir", tmp_path / "cache", f"--data.init_args.root={ckpts['mnist']}", *flag)
    assert code == 0, err
    card = json.loads(out.strip().splitlines()[-1])["protocol"]["generator"]
    assert card["weights"] == weights
    if weights == "ema":
        assert (card["ema_half_life_images"], card["ema_rampup"]) == (100.0, None)


def test_translate_reads_the_ema_by_default(tmp_path, capsys):
    root = write_inverted_pairs(tmp_path / "pairs", counts=(("train", 4), ("val", 2), ("test", 2)))
    L.seed_everything(0, verbose=False)
    model = Pix2Pix(data_shape=(3, 32, 32), direction="AtoB", generator_options={"features": 8},
                    discriminator_options={"features": 8, "n_layers": 1}, ema_half_life_images=10.0, ema_rampup=None)
    trainer = L.Trainer(accelerator="cpu", max_steps=4, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=0)
    trainer.fit(model, datamodule=PairedImageDataModule(root=str(root), direction="AtoB", load_size=36,
                                                        crop_size=32, batch_size=2))
    trainer.save_checkpoint(tmp_path / "p2p.ckpt")
    source = root / "facades" / "test"
    outputs = {}
    for name, flag in (("default", []), ("raw", ["--use-ema", "false"])):
        code, _, err = run(capsys, "translate", "--no-progress", "--ckpt", tmp_path / "p2p.ckpt", "--input", source,
                           "--out", tmp_path / name, *flag)
        assert code == 0, err
        outputs[name] = [np.asarray(Image.open(p)) for p in sorted((tmp_path / name).glob("*.png"))]
    assert outputs["default"] and any(not np.array_equal(a, b) for a, b in zip(outputs["default"], outputs["raw"]))
