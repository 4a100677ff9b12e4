"""The stabilizer options through the CLI: every model's --help lists them, bad values are one
line and exit 2, and a run with EMA + DiffAugment + R1 resumes exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from lit_gan.__main__ import main as lit_gan_main
from tests.test_resume import _fit, _last

OPTIONS = ("--model.spectral_norm", "--model.r1_gamma", "--model.r1_interval", "--model.augment",
           "--model.ema_half_life_images", "--model.ema_rampup")
QUICKSTART = Path(__file__).resolve().parents[1] / "experiments" / "quickstart.yaml"


@pytest.fixture(autouse=True)
def no_pytest_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


@pytest.mark.parametrize("model", ["GAN", "WGANGP", "ConditionalDCGAN", "Pix2Pix", "CycleGAN"])
def test_help_of_every_model_lists_the_stabilizers(model, capsys):
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["fit", "--model.help", f"lit_gan.models.{model}"])
    assert exc.value.code in (0, None)
    out = capsys.readouterr().out
    assert all(option in out for option in OPTIONS), [o for o in OPTIONS if o not in out]


@pytest.mark.parametrize("extra, needle", [
    (["--model.init_args.augment", "color,rotate"], "unknown DiffAugment policy 'rotate'"),
    (["--model.init_args.ema_half_life_images", "0"], "EMA half-life must be a positive"),
    (["--model.init_args.r1_interval", "0"], "R1 interval"),
    (["--model", "lit_gan.models.WGAN", "--model.init_args.r1_gamma", "10"], "clip_value"),
    (["--model.init_args.spectral_norm", "true",
      "--model.init_args.discriminator_options", "{hidden: [8], minibatch_discrimination: true}"],
     "spectral norm cannot bound"),
])
def test_bad_stabilizer_settings_exit_2_in_one_line(tmp_path, monkeypatch, capsys, extra, needle):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["fit", "--config", str(QUICKSTART), *extra])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    line = next(line for line in err.splitlines() if line.startswith("error:"))
    assert needle in line


STABILIZED = ("--model.init_args.discriminator_options", "{features: 8, norm: none}",
              "--model.init_args.augment", "color,translation,cutout",
              "--model.init_args.r1_gamma", "1.0", "--model.init_args.r1_interval", "2",
              "--model.init_args.ema_half_life_images", "100", "--model.init_args.spectral_norm", "true")


def test_resume_with_ema_diffaugment_r1_and_spectral_norm_is_exact(tmp_path, tiny_mnist, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fit(tmp_path, tiny_mnist, tmp_path / "straight", 2, *STABILIZED)
    _fit(tmp_path, tiny_mnist, tmp_path / "split", 1, *STABILIZED)
    _fit(tmp_path, tiny_mnist, tmp_path / "split", 2, "--ckpt_path", "last", *STABILIZED)
    straight, resumed = _last(tmp_path / "straight", 0), _last(tmp_path / "split", 1)
    assert straight["lit_gan"]["iterations"] == resumed["lit_gan"]["iterations"] == 6
    state = straight["state_dict"]
    # 6 G steps of 32 images
    assert int(state["generator_ema.images_seen"]) == 6 * 32
    assert not torch.equal(state["generator_ema.module.net.0.weight"], state["generator.net.0.weight"])
    assert any("parametrizations.weight.original" in key for key in state)
    assert state.keys() == resumed["state_dict"].keys()
    for key, value in state.items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=0, atol=0, msg=key)


def test_two_process_ddp_with_every_stabilizer_keeps_ranks_identical(tmp_path, tiny_mnist):
    """R1's input gradient fires DDP's hooks once (as the gradient penalty's); the EMA counts the
    images of both ranks and stays the same on each."""
    from tests.test_ddp import _fit_ddp

    result = _fit_ddp(tmp_path, tiny_mnist, *STABILIZED)
    assert result.returncode == 0, result.stderr[-3000:]
    checks = [line for line in result.stdout.splitlines() if line.startswith("RankSyncCheck:")]
    assert len(checks) == 2 and all("2 ranks identical" in line for line in checks), result.stdout[-2000:]
    ckpt = torch.load(tmp_path / "runs" / "default" / "version_0" / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["lit_gan"]["iterations"] == 12
    assert int(ckpt["state_dict"]["generator_ema.images_seen"]) == 12 * 16 * 2  # batch 16 on each of 2 ranks


def test_r1_and_augmentation_under_bf16_autocast():
    from tests.models.test_stabilizers import dcgan, images

    model = dcgan(r1_gamma=1.0, augment="color,translation,cutout")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, logs = model._discriminator_objective((images(), None))
    assert logs["train/r1_penalty"].dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.discriminator.parameters() if p.grad is not None)


def _fit_cyclegan(save_dir: Path, root: Path, max_epochs: int, *extra: str) -> None:
    from lit_gan.cli import main as cli_main

    cli_main([
        "fit", "--seed_everything", "5",
        "--trainer.accelerator", "cpu", "--trainer.devices", "1", "--trainer.deterministic", "true",
        "--trainer.max_epochs", str(max_epochs), "--trainer.limit_val_batches", "0",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--trainer.logger.class_path", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir", str(save_dir), "--trainer.logger.init_args.name", "resume",
        "--samples.every_n_iterations", "0",
        "--data", "lit_gan.data.UnpairedImageDataModule", "--data.init_args.root", str(root),
        "--data.init_args.dataset", "tiny", "--data.init_args.load_size", "36", "--data.init_args.crop_size", "32",
        "--data.init_args.batch_size", "4",
        "--model", "lit_gan.models.CycleGAN",
        "--model.init_args.generator_options", "{features: 8, n_blocks: 1}",
        "--model.init_args.discriminator_options", "{features: 8, n_layers: 1}",
        "--model.init_args.augment", "color,translation,cutout", "--model.init_args.r1_gamma", "1.0",
        "--model.init_args.ema_half_life_images", "20", "--model.init_args.spectral_norm", "true",
        *extra,
    ])


def test_cyclegan_resume_with_the_stabilizers_is_exact(tmp_path, monkeypatch):
    """Per-domain augmentation draws, both averages and the image pools come back on resume."""
    from tests.models.translation_fixtures import write_unpaired

    monkeypatch.chdir(tmp_path)
    root = write_unpaired(tmp_path / "data")
    _fit_cyclegan(tmp_path / "straight", root, 2)
    _fit_cyclegan(tmp_path / "split", root, 1)
    _fit_cyclegan(tmp_path / "split", root, 2, "--ckpt_path", "last")
    straight, resumed = _last(tmp_path / "straight", 0), _last(tmp_path / "split", 1)
    assert straight["lit_gan"]["iterations"] == resumed["lit_gan"]["iterations"] == 12  # 24 images / 4, 2 epochs
    state = straight["state_dict"]
    assert int(state["G_AB_ema.images_seen"]) == int(state["G_BA_ema.images_seen"]) == 12 * 4
    for key, value in state.items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=0, atol=0, msg=key)
