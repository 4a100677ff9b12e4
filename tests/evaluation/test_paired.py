"""`evaluate --metrics paired`: the pixel scores of the model's test_step, of the translations
every other metric of the evaluation reads (one translation pass over the split)."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data.paired import PairedImageDataModule
from lit_gan.data.unpaired import UnpairedImageDataModule
from lit_gan.models.cyclegan import CycleGAN, domains
from lit_gan.models.pix2pix import Pix2Pix
from tests.evaluation.test_registry import toy_ckpt  # noqa: F401 (a fixture)
from tests.models.translation_fixtures import write_inverted_pairs, write_unpaired

TRAIN = dict(accelerator="cpu", max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
             enable_model_summary=False, num_sanity_val_steps=0)


def fit_and_save(model, datamodule, path):
    L.seed_everything(0, verbose=False)
    trainer = L.Trainer(**TRAIN)
    trainer.fit(model, datamodule=datamodule)
    trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="module")
def p2p(tmp_path_factory):
    root = write_inverted_pairs(tmp_path_factory.mktemp("p2p"), counts=(("train", 4), ("val", 1), ("test", 5)))
    dm = PairedImageDataModule(root=str(root), direction="AtoB", load_size=36, crop_size=32, batch_size=2)
    model = Pix2Pix(data_shape=(3, 32, 32), direction="AtoB", generator_options={"features": 8},
                    discriminator_options={"features": 8, "n_layers": 1})
    return fit_and_save(model, dm, root / "p2p.ckpt"), dm


@pytest.fixture(scope="module")
def cyc(tmp_path_factory):
    root = write_unpaired(tmp_path_factory.mktemp("cyc"))
    dm = UnpairedImageDataModule(root=str(root), dataset="tiny", load_size=36, crop_size=32, batch_size=4)
    model = CycleGAN(data_shape=(3, 32, 32), generator_options={"features": 8, "n_blocks": 1},
                     discriminator_options={"features": 8, "n_layers": 1})
    return fit_and_save(model, dm, root / "cyc.ckpt"), dm


def evaluate(capsys, *args) -> dict:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--no-progress", *map(str, args)])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def old_pix2pix_test_step(model, dm) -> dict[str, float]:
    """pix2pix's test_step before the scores were shared (its code, over the test loader)."""
    psnr, ssim = PeakSignalNoiseRatio(data_range=1.0), StructuralSimilarityIndexMeasure(data_range=1.0)
    l1, n = 0.0, 0
    for target, source, *_ in dm.test_dataloader():
        fake = model.translate(source)
        unit_fake, unit_target = (fake.clamp(-1, 1) + 1) / 2, (target + 1) / 2
        psnr(unit_fake, unit_target)
        ssim(unit_fake, unit_target)
        l1, n = l1 + float(F.l1_loss(fake, target)) * len(target), n + len(target)  # Lightning's batch-weighted mean
    return {"l1": l1 / n, "psnr": float(psnr.compute()), "ssim": float(ssim.compute())}


def old_cyclegan_test_step(model, dm) -> dict[str, float]:
    total, n = 0.0, 0
    for batch in dm.test_dataloader():
        real_a, real_b = domains(batch)
        rec_a = model.translate(model.translate(real_a, "AtoB"), "BtoA")
        rec_b = model.translate(model.translate(real_b, "BtoA"), "AtoB")
        cycle = 0.5 * (F.l1_loss(rec_a, real_a) + F.l1_loss(rec_b, real_b))
        total, n = total + float(cycle) * len(real_a), n + len(real_a)
    return {"cycle_l1": total / n}


def test_test_step(model, dm) -> dict[str, float]:
    (logged,) = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False,
                          enable_model_summary=False).test(model, datamodule=dm, verbose=False)
    return {k.removeprefix("test/"): float(v) for k, v in logged.items()}


test_test_step.__test__ = False  # a helper, not a test


@pytest.mark.parametrize("which", ["p2p", "cyc"])
def test_paired_equals_the_old_test_step_and_the_shared_one(which, p2p, cyc, capsys):
    from lit_gan.evaluation.checkpoints import load_model

    ckpt, dm = p2p if which == "p2p" else cyc
    dm.setup("test")
    model = load_model(ckpt)
    oracle = (old_pix2pix_test_step if which == "p2p" else old_cyclegan_test_step)(model, dm)
    for batch_size in (1, 250):
        got = evaluate(capsys, "--ckpt", ckpt, "--metrics", "paired", "--batch-size", batch_size)["metrics"]
        assert_close(got, oracle)
    assert_close(test_test_step(model, dm), oracle)


def assert_close(got: dict[str, float], oracle: dict[str, float]) -> None:
    """float32 tolerance; SSIM's E[x^2] - E[x]^2 cancels, so its float32 rounding is larger
    (lit_gan.models.ssim: 7e-6 here, both sides as near the float64 value)."""
    assert set(got) == set(oracle)
    for key, value in oracle.items():
        assert got[key] == (pytest.approx(value, abs=3e-5) if key == "ssim" else pytest.approx(value, rel=1e-5)), key


def test_paired_on_two_processes_gives_one_process_values(cyc, capsys):
    ckpt, _ = cyc
    one = evaluate(capsys, "--ckpt", ckpt, "--metrics", "paired")
    two = evaluate(capsys, "--ckpt", ckpt, "--metrics", "paired", "--devices", 2, "--accelerator", "cpu")
    assert two["metrics"] == pytest.approx(one["metrics"], rel=1e-6)
    assert two["protocol"]["timing"]["rank"] == 0 and "rank" not in one["protocol"]["timing"]


def test_paired_refuses_a_sampler_in_the_parent(toy_ckpt, capsys):
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--no-progress", "--ckpt", toy_ckpt, "--metrics", "paired", "--devices", "2",
                      "--accelerator", "cpu"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "image-to-image checkpoint" in err and len(err.strip().splitlines()) == 1, err


def test_fid_accuracy_paired_translate_the_split_once(tmp_path, monkeypatch, capsys):
    """edges2fashion (classes known): the generator sees each test input exactly once."""
    from lit_gan.commands import evaluate as command
    from tests.data.test_derived import TEST_LABELS, write_source
    from tests.metrics.helpers import write_tiny_extractor

    dm = PairedImageDataModule(str(tmp_path), dataset="edges2fashion", direction="AtoB", load_size=32, crop_size=32,
                               batch_size=2, also_look_in=[str(write_source(tmp_path / "source"))])
    model = Pix2Pix(data_shape=(3, 32, 32), direction="AtoB", generator_options={"features": 8},
                    discriminator_options={"features": 8, "n_layers": 1})
    ckpt = fit_and_save(model, dm, tmp_path / "p2p.ckpt")
    seen = []
    real_load = command.load_model

    def spying_load(*args, **kwargs):
        loaded = real_load(*args, **kwargs)
        loaded.generator.register_forward_hook(lambda module, inputs, output: seen.append(len(inputs[0])))
        return loaded

    monkeypatch.setattr(command, "load_model", spying_load)
    result = evaluate(capsys, "--ckpt", ckpt, "--metrics", "fid,accuracy,paired", "--feature-extractor",
                      write_tiny_extractor(tmp_path / "tiny.pt2"), "--cache-dir", tmp_path / "cache",
                      f"--data.init_args.root={tmp_path}")
    assert {"fid_6", "accuracy", "l1", "psnr", "ssim"} <= set(result["metrics"])
    assert sum(seen) == len(TEST_LABELS) == 6, seen
    timing = result["protocol"]["timing"]
    assert set(timing["metrics_s"]) == {"fid", "accuracy", "paired"}
    assert {"load_s", "real_images_s", "reference_features_s", "forward_s", "features_s", "total_s"} <= set(timing)
    assert sum(timing["metrics_s"].values()) + timing["forward_s"] + timing["features_s"] <= timing["total_s"]
