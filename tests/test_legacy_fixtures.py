"""Checkpoints and saved configs written by an earlier lit_gan (tests/fixtures/legacy, see its
README) still load: every model family's checkpoint gives the samples / translations it gave
then, its run's config.yaml still parses, and each model's arguments keep their defaults."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import yaml

from lit_gan.cli import main
from lit_gan.evaluation.checkpoints import load_model
from tests.fixtures.legacy.outputs import outputs
from tests.fixtures.legacy.write_defaults import NAMES, defaults

import lit_gan.models as models

# Options added after the fixtures were written, with their defaults (off): every model takes them
# (lit_gan.models.adversarial.AdversarialModel); the legacy defaults stay as they were.
STABILIZERS = {"spectral_norm": False, "r1_gamma": 0.0, "r1_interval": 1, "augment": None,
               "ema_half_life_images": None, "ema_rampup": 0.05}
# pix2pix and CycleGAN forward them to the shared step, which also takes these (with their defaults)
SHARED_STEP = {"n_critic": 1, "n_gen": 1, "grad_clip": None}
# AC-GAN's classifier (issue 24): "ac" is the AC-GAN the fixtures were written with
ADDED_BY_MODEL = {"ACGAN": {"classifier": "ac"}}


def added_defaults(name: str) -> dict:
    return {**STABILIZERS, **(SHARED_STEP if name in ("Pix2Pix", "CycleGAN") else {}), **ADDED_BY_MODEL.get(name, {})}

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy"
RUNS = sorted(p.name for p in LEGACY.iterdir() if (p / "last.ckpt").is_file())
CONFIGS = sorted(p.name for p in LEGACY.iterdir() if (p / "config.yaml").is_file())


@pytest.fixture(autouse=True)
def no_pytest_argv(monkeypatch):
    """LightningCLI warns when it sees both pytest's sys.argv and `args`."""
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


def test_every_model_family_has_a_fixture():
    assert len(RUNS) == 12 and len(CONFIGS) == 11, (RUNS, CONFIGS)


@pytest.mark.parametrize("run", RUNS)
def test_checkpoint_loads_and_gives_its_outputs(run):
    model = load_model(LEGACY / run / "last.ckpt")
    torch.testing.assert_close(outputs(model), torch.load(LEGACY / run / "outputs.pt"), rtol=0, atol=0)


@pytest.mark.parametrize("run", CONFIGS)
def test_saved_config_parses(run, capsys):
    config = LEGACY / run / "config.yaml"
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--config", str(config), "--print_config"])
    assert exc.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)["model"]
    saved = yaml.safe_load(config.read_text())["model"]
    assert printed["class_path"] == saved["class_path"]
    assert {key: printed["init_args"].get(key) for key in saved["init_args"]} == saved["init_args"]  # every value kept


@pytest.mark.parametrize("name", NAMES)
def test_model_arguments_keep_their_defaults(name):
    """What --help and --print_config show for a model: every argument, with its default."""
    expected = yaml.safe_load((LEGACY / "defaults.yaml").read_text())[name]
    assert defaults(getattr(models, name)) == {**expected, **added_defaults(name)}


@pytest.mark.parametrize("name", ["DCGAN", "WGANGP", "ACGAN"])
def test_print_config_shows_every_argument_with_its_default(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--data", "lit_gan.data.Toy2DDataModule", "--model", f"lit_gan.models.{name}", "--print_config"])
    assert exc.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)["model"]["init_args"]
    expected = {**yaml.safe_load((LEGACY / "defaults.yaml").read_text())[name], **added_defaults(name)}
    assert printed == {key: value for key, value in expected.items() if key in printed}
    assert set(expected) - set(printed) <= {"num_classes", "data_shape"}  # linked from the data, not printed
