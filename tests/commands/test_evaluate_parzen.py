"""Parzen through `evaluate` sits its window on G's float outputs (the authors' parzen_ll.py),
not on samples rounded to uint8; a samples file carries them with `generate --keep-float`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.conversion import to_uint8
from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.checkpoints import load_model
from lit_gan.evaluation.parzen import parzen_window
from lit_gan.evaluation.sampling import sample_rows
from tests.commands.test_evaluate import evaluate, setup  # noqa: F401  (setup: the tiny checkpoint fixture)

NUM = 50


@pytest.fixture(scope="module")
def expected(setup):  # noqa: F811
    """The protocol on the checkpoint's float samples, and on the same samples rounded."""
    model = load_model(setup["ckpt"], "cpu")
    floats = torch.cat(list(sample_rows(model, NUM, 0, range(NUM), 250)))
    datamodule = MNISTDataModule(root=str(setup["mnist"]), val_size=32, batch_size=16)
    on_float, _ = parzen_window(lambda rows: [floats[rows.start : rows.stop]], NUM, datamodule, "test")
    on_uint8, _ = parzen_window(lambda rows: [to_uint8(floats[rows.start : rows.stop])], NUM, datamodule, "test")
    assert abs(on_float["parzen_ll"] - on_uint8["parzen_ll"]) > 1e-6  # rounding shows at this sigma
    return {"float": on_float, "uint8": on_uint8}


def test_checkpoint_parzen_uses_the_float_samples(setup, expected, capsys):  # noqa: F811
    code, result, err = evaluate(capsys, "--ckpt", setup["ckpt"], "--num", NUM, "--metrics", "parzen")
    assert code == 0, err
    assert result["metrics"] == pytest.approx(expected["float"], rel=1e-12)
    assert result["protocol"]["parzen"]["generated"].startswith("float G(z)")
    assert result["protocol"]["sampling"]["sample_mode"] == "eval"


def test_samples_file_uses_its_float_copy_or_says_it_rounded(setup, expected, capsys, tmp_path):  # noqa: F811
    data = ["--data=lit_gan.data.MNISTDataModule", f"--data.init_args.root={setup['mnist']}",
            "--data.init_args.val_size=32", "--metrics", "parzen"]
    with pytest.raises(SystemExit):
        lit_gan_main(["generate", "--ckpt", str(setup["ckpt"]), "--num", str(NUM), "--out", str(tmp_path / "f.npz"),
                      "--keep-float", "--no-progress"])
    capsys.readouterr()
    code, with_float, err = evaluate(capsys, "--samples", tmp_path / "f.npz", *data)
    assert code == 0, err
    assert with_float["metrics"] == pytest.approx(expected["float"], rel=1e-12) and "warning" not in err
    with np.load(tmp_path / "f.npz") as f:
        np.savez(tmp_path / "u.npz", samples=f["samples"])
    code, rounded, err = evaluate(capsys, "--samples", tmp_path / "u.npz", *data)
    assert code == 0, err
    assert rounded["metrics"] == pytest.approx(expected["uint8"], rel=1e-12)
    assert "only uint8 samples" in err and "--keep-float" in err
    assert rounded["protocol"]["parzen"]["generated"].startswith("uint8 / 255: rounded")
