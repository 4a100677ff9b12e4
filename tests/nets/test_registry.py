"""Nets by name (lit_gan.nets.registry): the registries behind every model's ``generator`` /
``discriminator`` argument, their errors, and a net added without touching a model file."""

from __future__ import annotations

import sys

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lit_gan import nets
from lit_gan.errors import SettingError
from lit_gan.evaluation.checkpoints import load_model
from lit_gan.models import GAN, WGANGP
from lit_gan.nets.conditional import build_conditional_nets


class TinyGenerator(nn.Module):
    """A net no model file knows: z -> one linear layer -> a point."""

    def __init__(self, latent_dim: int, data_shape, width: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, width), nn.Tanh(), nn.Linear(width, data_shape[0]))

    def forward(self, z):
        return self.net(z)


@pytest.fixture
def tiny_registered(monkeypatch):
    """``tiny`` in the generator registry for this test only: one line, as in lit_gan/nets/__init__.py."""
    monkeypatch.setitem(nets.GENERATORS, "tiny", TinyGenerator)


@pytest.mark.parametrize("build, names", [
    (lambda: nets.build_generator("nope", 4, (2,), {}), "mlp, dcgan"),
    (lambda: nets.build_discriminator("nope", (2,), {}), "mlp, maxout, dcgan"),
    (lambda: nets.build_translator("nope", 3, 3, 32, {}), "unet, unet_128"),
    (lambda: nets.build_patch_discriminator("nope", 3, {}), "patchgan, pixelgan"),
    (lambda: build_conditional_nets("nope", "dcgan", 4, 10, (1, 16, 16), {}, {}), "mlp, dcgan, dcgan_cbn"),
])
def test_an_unknown_name_is_one_line_naming_the_choices(build, names):
    with pytest.raises(SettingError, match=f"Unknown .*'nope'; choose one of {names}") as err:
        build()
    assert "\n" not in str(err.value)


def test_a_model_refuses_an_unknown_net_in_one_line():
    with pytest.raises(ValueError, match="Unknown generator 'nope'; choose one of mlp, dcgan$"):
        GAN(data_shape=(2,), generator="nope")


def test_names_are_the_registered_ones_now(tiny_registered):
    assert nets.GENERATORS.names().__args__ == ("mlp", "dcgan", "tiny")


def test_a_registered_net_trains_in_a_model_and_reloads(tiny_registered, tmp_path):
    torch.manual_seed(0)
    model = GAN(data_shape=(2,), latent_dim=4, generator="tiny", generator_options={"width": 5},
                discriminator="mlp", discriminator_options={"hidden": [8]}, optimizer="adam", lr_g=1e-3, lr_d=1e-3)
    assert isinstance(model.generator, TinyGenerator) and model.generator.net[0].out_features == 5
    before = [p.detach().clone() for p in model.generator.parameters()]
    data = DataLoader(TensorDataset(torch.randn(8, 2), torch.zeros(8, dtype=torch.long)), batch_size=4)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, data)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))
    trainer.save_checkpoint(tmp_path / "tiny.ckpt")
    z = model.noise(3, torch.Generator().manual_seed(1))
    torch.testing.assert_close(load_model(tmp_path / "tiny.ckpt").generate(z), model.generate(z))


def test_bad_options_name_the_net():
    with pytest.raises(ValueError, match=r"Bad generator_options \{'width': 3\} for the 'mlp' generator"):
        nets.build_generator("mlp", 4, (2,), {"width": 3})


def test_a_model_s_default_options_for_its_net_are_recorded():
    model = WGANGP(data_shape=(1, 16, 16), generator_options={"features": 4}, discriminator_options={"features": 4})
    assert model.hparams.discriminator_options == {"norm": "layer", "features": 4}


# ---- the CLI lists the names and refuses others ------------------------------------------------
def _cli_exit(args, capsys) -> tuple[int, str, str]:
    from lit_gan.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_help_lists_the_registered_names(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["lit_gan"])
    code, out, _ = _cli_exit(["fit", "--model.help", "lit_gan.models.DCGAN"], capsys)
    assert code in (0, None)
    assert "--model.generator {mlp,dcgan}" in out and "--model.discriminator {mlp,maxout,dcgan}" in out


def test_the_cli_refuses_an_unknown_net_with_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(sys, "argv", ["lit_gan"])
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli_exit(["fit", "--data", "lit_gan.data.Toy2DDataModule", "--model", "lit_gan.models.GAN",
                              "--model.init_args.generator", "nope"], capsys)
    assert code == 2
    assert "generator" in err and "'mlp', 'dcgan'" in err and "nope" in err
