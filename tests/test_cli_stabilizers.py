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
