"""`python -m lit_gan translate` end to end on a tiny pix2pix checkpoint."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
from PIL import Image

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data.paired import PairedImageDataModule
from lit_gan.models.pix2pix import Pix2Pix
from tests.models.translation_fixtures import write_inverted_pairs


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = write_inverted_pairs(tmp_path_factory.mktemp("translate"), counts=(("train", 8), ("val", 2), ("test", 3)))
    L.seed_everything(0, verbose=False)
    model = Pix2Pix(data_shape=(3, 32, 32), direction="AtoB", generator_options={"features": 8},
                    discriminator_options={"features": 8, "n_layers": 1})
    trainer = L.Trainer(accelerator="cpu", max_steps=4, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=PairedImageDataModule(root=str(root), direction="AtoB", load_size=36,
                                                        crop_size=32, batch_size=2))
    trainer.save_checkpoint(root / "p2p.ckpt")
    return root


def translate(*args) -> int:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["translate", "--no-progress", *map(str, args)])
    return exc.value.code


def test_a_folder_of_paired_files_gives_one_png_per_input(setup, tmp_path):
    out = tmp_path / "out"
    assert translate("--ckpt", setup / "p2p.ckpt", "--input", setup / "facades" / "test", "--out", out,
                     "--device", "cpu") == 0
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png", "2.png"]
    image = np.asarray(Image.open(out / "0.png"))
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8  # the input half, at the model's size
    # again without --overwrite: refused, nothing replaced
    before = (out / "0.png").read_bytes()
    assert translate("--ckpt", setup / "p2p.ckpt", "--input", setup / "facades" / "test", "--out", out) == 2
    assert (out / "0.png").read_bytes() == before


def test_a_plain_image_and_bad_requests(setup, tmp_path, capsys):
    plain = tmp_path / "photo.jpg"
    Image.fromarray(np.full((50, 40, 3), 200, np.uint8)).save(plain)
    assert translate("--ckpt", setup / "p2p.ckpt", "--input", plain, "--out", tmp_path / "o") == 0
    assert np.asarray(Image.open(tmp_path / "o" / "photo.png")).shape == (32, 32, 3)
    capsys.readouterr()
    assert translate("--ckpt", setup / "p2p.ckpt", "--input", plain, "--out", tmp_path / "o2", "--direction", "BtoA") == 2
    assert "translates AtoB" in capsys.readouterr().err
    assert translate("--ckpt", setup / "p2p.ckpt", "--input", tmp_path / "missing", "--out", tmp_path / "o3") == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_evaluate_compares_translations_with_the_target_split(setup, tmp_path, capsys):
    """pix2pix checkpoints: FID / KID of G(input) vs the test targets; KID's subset shrinks to 3."""
    import json

    import torch
    from torch import nn

    from lit_gan.metrics.feature_module import save_feature_module

    torch.manual_seed(0)
    extractor = save_feature_module(nn.Sequential(nn.AvgPool2d(8), nn.Flatten()), tmp_path / "rgb.pt2",
                                    torch.randn(2, 3, 32, 32))
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--ckpt", str(setup / "p2p.ckpt"), "--metrics", "fid,kid", "--no-progress",
                      "--feature-extractor", str(extractor), "--cache-dir", str(tmp_path / "cache"),
                      f"--data.init_args.root={setup}"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["protocol"]["n_real"] == result["protocol"]["n_fake"] == 3  # the 3 test files
    assert result["protocol"]["kid"]["subset_size"] == 3
    assert result["protocol"]["source"]["translation"] == "AtoB"
    assert set(result["metrics"]) == {"fid_3", "kid_3", "kid_3_std"}


def test_evaluate_serves_the_paired_metric_of_the_same_checkpoint(setup, capsys):
    import json

    import torch

    from lit_gan.evaluation.checkpoints import load_model

    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--no-progress", "--ckpt", str(setup / "p2p.ckpt"), "--metrics", "paired"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result["metrics"]) == {"l1", "psnr", "ssim"} and result["protocol"]["paired"]["split"] == "test"
    # L1 is the model's own test_step over the 3 test pairs: recompute it by hand (dropout is on
    # at test time, sec. 3.3, with the same noise for every image, so the passes agree)
    model = load_model(setup / "p2p.ckpt")
    dm = PairedImageDataModule(root=str(setup), direction="AtoB", load_size=36, crop_size=32, batch_size=2)
    dm.setup("test")
    pairs = [dm.test_set[i] for i in range(len(dm.test_set))]
    l1 = torch.stack([(model.translate(x[None], "AtoB")[0] - y).abs().mean() for y, x, *_ in pairs]).mean()
    assert result["metrics"]["l1"] == pytest.approx(float(l1), rel=1e-5)


def test_paired_beside_a_sharded_metric_is_sharded_too(setup, capsys):
    """paired reads the translations of the pass, each rank its shard: 2 processes give 1's values."""
    import json

    results = []
    for devices in ("1", "2"):
        with pytest.raises(SystemExit) as exc:
            lit_gan_main(["evaluate", "--no-progress", "--ckpt", str(setup / "p2p.ckpt"), "--metrics", "parzen,paired",
                          "--devices", devices, "--accelerator", "cpu"])
        out, err = capsys.readouterr()
        assert exc.value.code == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    one, two = results
    assert {"l1", "psnr", "ssim", "parzen_ll"} <= set(two["metrics"])
    assert two["protocol"]["paired"]["split"] == "test" and two["protocol"]["parzen"]["n_test"] == 3
    assert {k: two["metrics"][k] for k in ("l1", "psnr", "ssim")} == pytest.approx(
        {k: one["metrics"][k] for k in ("l1", "psnr", "ssim")}, rel=1e-6)


def test_translate_and_evaluate_give_the_same_image_at_any_batch_size(setup, tmp_path):
    """The pix2pix checkpoint runs `inference: paper` (batch statistics, dropout on): each test
    image must still come out the same from `translate`, and from evaluate's batches of 1, 2 or 250."""
    import torch

    from lit_gan.evaluation.checkpoints import load_model
    from lit_gan.evaluation.translation import translated_batches, translation_sets

    out = tmp_path / "out"
    assert translate("--ckpt", setup / "p2p.ckpt", "--input", setup / "facades" / "test", "--out", out,
                     "--device", "cpu") == 0
    written = torch.stack([torch.from_numpy(np.asarray(Image.open(out / f"{i}.png"))).permute(2, 0, 1)
                           for i in range(3)])
    model = load_model(setup / "p2p.ckpt")
    assert model.hparams.inference == "paper"
    dm = PairedImageDataModule(root=str(setup), direction="AtoB", load_size=36, crop_size=32, batch_size=2)
    dm.setup("test")
    split_set = translation_sets(dm, "test", "AtoB")
    inputs, field = split_set.inputs, split_set.field
    for batch_size in (1, 2, 250):
        batches = translated_batches(model, inputs, field, "AtoB", batch_size)
        assert torch.equal(torch.cat(list(batches(range(3)))), written), batch_size


def test_evaluate_fid_of_translations_is_the_same_on_any_batch_size_and_process_count(setup, tmp_path, capsys):
    import json

    import torch
    from torch import nn

    from lit_gan.metrics.feature_module import save_feature_module

    torch.manual_seed(0)
    extractor = save_feature_module(nn.Sequential(nn.AvgPool2d(4), nn.Flatten()), tmp_path / "rgb.pt2",
                                    torch.randn(2, 3, 32, 32))
    fids = {}
    for extra in (["--batch-size", "1"], ["--batch-size", "250"], ["--devices", "2", "--accelerator", "cpu"]):
        with pytest.raises(SystemExit) as exc:
            lit_gan_main(["evaluate", "--ckpt", str(setup / "p2p.ckpt"), "--metrics", "fid", "--no-progress",
                          "--feature-extractor", str(extractor), "--cache-dir", str(tmp_path / "cache"), *extra])
        out, err = capsys.readouterr()
        assert exc.value.code == 0, err
        fids[" ".join(extra)] = json.loads(out.strip().splitlines()[-1])["metrics"]["fid_3"]
    # equal up to the order in which 2 processes add up the feature statistics
    assert fids["--batch-size 1"] == fids["--batch-size 250"], fids
    assert fids["--devices 2 --accelerator cpu"] == pytest.approx(fids["--batch-size 1"], rel=1e-9), fids


def test_a_classifier_score_needs_known_classes_and_a_classifier(setup, tmp_path, capsys):
    """facades carries no classes; a pooled-colour extractor is no classifier: one line each, exit 2."""
    import torch
    from torch import nn

    from lit_gan.metrics.feature_module import save_feature_module
    from tests.metrics.helpers import write_tiny_extractor

    torch.manual_seed(0)
    pooled = save_feature_module(nn.Sequential(nn.AvgPool2d(4), nn.Flatten()), tmp_path / "rgb.pt2",
                                 torch.randn(2, 3, 32, 32))
    for extractor, message in ((write_tiny_extractor(tmp_path / "tiny.pt2"), "image-to-image checkpoint on data whose classes are known"),
                               (pooled, "needs a classifier feature extractor")):
        with pytest.raises(SystemExit) as exc:
            lit_gan_main(["evaluate", "--ckpt", str(setup / "p2p.ckpt"), "--metrics", "accuracy", "--no-progress",
                          "--feature-extractor", str(extractor), "--cache-dir", str(tmp_path / "cache")])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
