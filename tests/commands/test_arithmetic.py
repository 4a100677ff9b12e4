"""`python -m lit_gan arithmetic` end to end on tiny (untrained) checkpoints and tiny classifiers."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.metrics.feature_module import save_feature_module
from lit_gan.models import DCGAN, ConditionalDCGAN
from lit_gan.models.pix2pix import Pix2Pix

FASHION = {"class_path": "lit_gan.data.MNISTDataModule", "init_args": {"variant": "fashion", "root": "data"}}


def save_untrained(model, path: Path, datamodule: dict | None = None) -> Path:
    """A checkpoint `load_model` reads, without a training run (random weights are enough here)."""
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": L.__version__,
                "lit_gan": {"model_class": f"{type(model).__module__}.{type(model).__qualname__}",
                            **({"datamodule": datamodule} if datamodule else {})}}, path)
    return path


class Classifier(nn.Module):
    """(N, 1, 28, 28) -> (features (N, 4), logits (N, 3)): which third of the rows is brightest."""

    def forward(self, x):
        thirds = torch.stack([x[:, :, :9].mean((1, 2, 3)), x[:, :, 9:19].mean((1, 2, 3)),
                              x[:, :, 19:].mean((1, 2, 3))], 1)
        return torch.cat([thirds, thirds.sum(1, keepdim=True)], 1), 20 * (thirds - thirds.mean(1, keepdim=True))


class Attributes(Classifier):
    """Multi-label: 'Top' when the top third is brighter than the image, 'Bottom' likewise."""

    def forward(self, x):
        features, logits = super().forward(x)
        return features, logits[:, [0, 2]]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("arithmetic")
    torch.manual_seed(0)
    kwargs = {"data_shape": (1, 28, 28), "latent_dim": 8, "generator_options": {"features": 8},
              "discriminator_options": {"features": 8}}
    example = torch.rand(2, 1, 28, 28) * 2 - 1
    return {
        "root": root,
        "dcgan": save_untrained(DCGAN(**kwargs), root / "dcgan.ckpt"),
        "batch_stats": save_untrained(DCGAN(**kwargs, sample_mode="batch_stats", sample_batch_size=32),
                                      root / "bs.ckpt"),
        "cdcgan": save_untrained(ConditionalDCGAN(num_classes=10, **kwargs), root / "cdcgan.ckpt", FASHION),
        "pix2pix": save_untrained(Pix2Pix(data_shape=(3, 32, 32), generator_options={"features": 8},
                                          discriminator_options={"features": 8, "n_layers": 1}), root / "p2p.ckpt"),
        "classes": save_feature_module(Classifier(), root / "thirds.pt2", example,
                                       {"num_classes": 3, "class_names": ["Top", "Middle", "Bottom"]}),
        "attributes": save_feature_module(Attributes(), root / "attributes.pt2", example,
                                          {"multilabel": True, "attribute_names": ["Top", "Bottom"]}),
        "features": save_feature_module(nn.Sequential(nn.Flatten(), nn.Linear(784, 4)), root / "plain.pt2", example),
    }


def run(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["arithmetic", "--no-progress", *map(str, args)])
    return exc.value.code, capsys.readouterr().err


# ---- outputs ----------------------------------------------------------------------------------

def test_index_groups_write_png_and_npz_and_members_are_generates_samples(setup, capsys, tmp_path):
    out = tmp_path / "fig.png"
    code, err = run(capsys, "--ckpt", setup["dcgan"], "--expr", "3,17,42 - 5,9,11 + 8,21", "--seed", 4,
                    "--search", 64, "--out", out)
    assert code == 0, err
    assert f"wrote {out}" in err
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 400
    with np.load(tmp_path / "fig.npz") as f:
        a = {k: f[k] for k in f.files}
    assert str(a["expression"]) == "3,17,42 - 5,9,11 + 8,21" and int(a["seed"]) == 4 and int(a["label"]) == -1
    assert a["signs"].tolist() == [1, -1, 1] and a["group_text"].tolist() == ["3,17,42", "5,9,11", "8,21"]
    assert a["member_indices"].tolist() == [3, 17, 42, 5, 9, 11, 8, 21]
    assert a["member_group"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2] and np.isnan(a["member_scores"]).all()
    assert a["member_z"].shape == (8, 8) and a["mean_z"].shape == (3, 8) and a["neighbour_z"].shape == (9, 8)
    np.testing.assert_allclose(a["mean_z"][2], a["member_z"][6:].mean(0), rtol=0, atol=1e-6)
    np.testing.assert_allclose(a["result_z"], a["mean_z"][0] - a["mean_z"][1] + a["mean_z"][2], rtol=0, atol=1e-6)
    assert np.array_equal(a["neighbour_z"][4], a["result_z"])
    assert np.abs(np.delete(a["neighbour_z"], 4, 0) - a["result_z"]).max() <= 0.25
    assert a["member_images"].shape == (8, 28, 28, 1) and a["member_images"].dtype == np.uint8
    assert a["mean_images"].shape == (3, 28, 28, 1) and a["neighbour_images"].shape == (9, 28, 28, 1)
    # the members are sample i of `generate --seed 4 --num 64`, z and image
    samples = tmp_path / "samples.npz"
    with pytest.raises(SystemExit):
        lit_gan_main(["generate", "--no-progress", "--ckpt", str(setup["dcgan"]), "--num", "64", "--seed", "4",
                      "--out", str(samples), "--keep-float"])
    with np.load(samples) as f:
        expected = f["samples_float"][a["member_indices"]]
    got = a["member_images"].astype(np.float64) / 127.5 - 1
    np.testing.assert_allclose(got, np.clip(expected, -1, 1), rtol=0, atol=1 / 127.5 + 1e-6)


def test_class_groups_and_overwrite(setup, capsys, tmp_path):
    out, npz = tmp_path / "fig.png", tmp_path / "arrays" / "a.npz"
    args = ("--ckpt", setup["dcgan"], "--expr", "top - MIDDLE + #2", "--feature-extractor", setup["classes"],
            "--search", 200, "--per-group", 2, "--out", out, "--npz", npz)
    code, err = run(capsys, *args)
    assert code == 0, err
    assert "classifier: result (centre) = " in err
    with np.load(npz) as f:
        a = {k: f[k] for k in f.files}
    assert a["group_description"].tolist() == ["Top", "Middle", "Bottom"]
    assert a["member_indices"].shape == (6,) and (a["member_indices"] < 200).all()
    scores = a["member_scores"].reshape(3, 2)
    assert (scores[:, 0] >= scores[:, 1]).all() and (scores > 1 / 3).all()  # best first, each predicted so
    assert a["neighbour_logits"].shape == (9, 3)
    code, err = run(capsys, *args)
    assert code == 2 and "--overwrite" in err
    assert run(capsys, *args, "--overwrite")[0] == 0


def test_attribute_conjunctions(setup, capsys, tmp_path):
    code, err = run(capsys, "--ckpt", setup["dcgan"], "--expr", "top & not bottom - bottom + not top & not bottom",
                    "--feature-extractor", setup["attributes"], "--search", 300, "--out", tmp_path / "f.png")
    assert code == 0, err
    assert "present in the 3x3" in err
    with np.load(tmp_path / "f.npz") as f:
        assert f["group_description"].tolist() == ["Top & not Bottom", "Bottom", "not Top & not Bottom"]
        assert f["neighbour_logits"].shape == (9, 2) and f["member_indices"].shape == (9,)


def test_conditional_model_at_a_label(setup, capsys, tmp_path):
    code, err = run(capsys, "--ckpt", setup["cdcgan"], "--expr", "1,2 - 3", "--label", "sandal", "--search", 16,
                    "--out", tmp_path / "c.png")
    assert code == 0, err
    with np.load(tmp_path / "c.npz") as f:
        assert int(f["label"]) == 5


def test_batch_stats_model(setup, capsys, tmp_path):
    code, err = run(capsys, "--ckpt", setup["batch_stats"], "--expr", "0,1,2 - 3,4,5 + 6,7,8", "--search", 40,
                    "--out", tmp_path / "b.png")
    assert code == 0, err
    with np.load(tmp_path / "b.npz") as f:
        assert "one batch of 32" in str(f["decoding"]) and f["neighbour_images"].shape == (9, 28, 28, 1)


# ---- bad input: one line, exit 2 --------------------------------------------------------------

@pytest.mark.parametrize("ckpt, extra, needles", [
    ("dcgan", ["--expr", "1,2 - 3,64", "--search", 64], ["sample 64", "below --search (64)"]),
    ("dcgan", ["--expr", "top - middle", "--feature-extractor", "classes", "--search", 20, "--per-group", 30],
     ["of the 20 searched samples of seed 0", "30 needed", "raise --search"]),
    ("dcgan", ["--expr", "top - sandal", "--feature-extractor", "classes"], ["unknown class 'sandal'", "#2 Bottom"]),
    ("dcgan", ["--expr", "top - middle", "--feature-extractor", "features"], ["no class logits"]),
    ("dcgan", ["--expr", "top - middle"], ["--feature-extractor"]),
    ("dcgan", ["--expr", "top & not bottom - middle", "--feature-extractor", "classes"], ["single-label"]),
    ("dcgan", ["--expr", "top - middle", "--feature-extractor", "attributes"], ["unknown attribute 'middle'"]),
    ("dcgan", ["--expr", "1,2 -3"], ["spaces around them"]),
    ("dcgan", ["--expr", "1 - 2", "--label", "3"], ["unconditional", "drop --label"]),
    ("cdcgan", ["--expr", "1 - 2"], ["class-conditional", "--label", "5 Sandal"]),
    ("cdcgan", ["--expr", "1 - 2", "--label", "hat"], ["--label hat: no such class"]),
    ("pix2pix", ["--expr", "1 - 2"], ["Pix2Pix", "cannot sample from noise"]),
])
def test_bad_input(setup, capsys, tmp_path, ckpt, extra, needles):
    extra = [setup[x] if isinstance(x, str) and x in setup else x for x in extra]
    out = tmp_path / "fig.png"
    code, err = run(capsys, "--ckpt", setup[ckpt], "--out", out, *extra)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not out.exists() and not out.with_suffix(".npz").exists()


# ---- class names for --label NAME: only the expected absences are quiet -----------------------

def test_class_names_are_none_only_when_the_checkpoint_cannot_say(setup, tmp_path):
    from lit_gan.commands.arithmetic import class_names_of

    assert class_names_of(str(setup["cdcgan"]))[5] == "Sandal"
    assert class_names_of(str(setup["dcgan"])) is None  # an older checkpoint: no datamodule recorded
    toy = {"class_path": "lit_gan.data.Toy2DDataModule", "init_args": {}}  # a datamodule that names no classes
    kwargs = {"data_shape": (1, 28, 28), "latent_dim": 8, "generator_options": {"features": 8},
              "discriminator_options": {"features": 8}}
    assert class_names_of(str(save_untrained(DCGAN(**kwargs), tmp_path / "toy.ckpt", toy))) is None


def test_an_unexpected_datamodule_error_surfaces(setup, tmp_path, monkeypatch):
    """A datamodule that breaks is a bug to see, not 'no class names' (a broad except hid it)."""
    from lit_gan.commands import arithmetic
    from lit_gan.data import MNISTDataModule

    def broken(self):
        raise RuntimeError("a bug in class_names")

    monkeypatch.setattr(MNISTDataModule, "class_names", property(broken))
    with pytest.raises(RuntimeError, match="a bug in class_names"):
        arithmetic.class_names_of(str(setup["cdcgan"]))
