"""``compile: true``: the nets' forward through torch.compile, in place, during fit only."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
from jsonargparse import ArgumentParser
from torch.utils.data import DataLoader, TensorDataset

from lit_gan import models
from lit_gan.models import DCGAN, WGANGP, CycleGAN, Pix2Pix
from lit_gan.models.compile import compile_nets

pytestmark = [pytest.mark.filterwarnings("ignore:.*does not have many workers"),
              pytest.mark.filterwarnings("ignore:.*LeafSpec")]
TINY = {"generator_options": {"features": 8}, "discriminator_options": {"features": 8}}


def compiled(net: torch.nn.Module) -> bool:
    return getattr(net, "_compiled_call_impl", None) is not None


@pytest.mark.parametrize("name", models.__all__[1:])
def test_every_model_family_lists_compile_in_its_help(name):
    parser = ArgumentParser()
    parser.add_class_arguments(getattr(models, name), "model")
    assert "--model.compile {true,false}" in parser.format_help()


def test_compile_wraps_the_nets_in_place_and_skips_a_penalised_critic():
    plain, gp = DCGAN(data_shape=(1, 28, 28), **TINY), WGANGP(data_shape=(1, 28, 28), **TINY)
    keys = list(plain.state_dict())
    assert compile_nets(plain) == ["generator", "discriminator"]
    assert compiled(plain.generator) and compiled(plain.discriminator) and list(plain.state_dict()) == keys
    assert gp.double_backward_nets() == ("discriminator",)
    assert compile_nets(gp, eager=gp.double_backward_nets()) == ["generator"]
    assert compiled(gp.generator) and not compiled(gp.discriminator)
    pix = Pix2Pix(data_shape=(3, 32, 32), generator_options={"features": 8}, discriminator_options={"features": 8})
    assert compile_nets(pix) == ["generator", "discriminator"]  # not its PSNR / SSIM metrics
    cycle = CycleGAN(data_shape=(3, 32, 32), generator_options={"features": 8, "n_blocks": 1},
                     discriminator_options={"features": 8})
    assert sorted(compile_nets(cycle)) == ["D_A", "D_B", "G_AB", "G_BA"]


def test_compile_acts_in_fit_only_and_is_off_by_default():
    model = DCGAN(data_shape=(1, 28, 28), compile=True, **TINY)
    assert not DCGAN(data_shape=(1, 28, 28), **TINY).compile_nets and model.hparams.compile
    model.configure_model()  # no Trainer: nothing to do
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.validate(model, DataLoader(TensorDataset(torch.zeros(4, 1, 28, 28)), batch_size=4), verbose=False)
    assert not compiled(model.generator)


@pytest.mark.slow
def test_a_compiled_dcgan_trains_with_the_same_checkpoint_keys(tmp_path):
    """~60 s on one CPU core with an empty inductor cache, almost all of it the compile."""
    x = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    loader = DataLoader(TensorDataset(x, torch.zeros(12, dtype=torch.long)), batch_size=4)
    states = {}
    for flag in (False, True):
        torch.manual_seed(0)
        model = DCGAN(data_shape=(1, 28, 28), compile=flag, **TINY)
        trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=1,
                            default_root_dir=tmp_path)
        torch._dynamo.utils.counters.clear()
        trainer.fit(model, loader)
        assert compiled(model.discriminator) == flag and model.iterations == 3
        assert (torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0) == flag  # the compiled forward ran
        losses = trainer.callback_metrics
        assert all(math.isfinite(losses[k].item()) for k in ("train/loss_d", "train/loss_g"))
        assert all(p.requires_grad for p in model.parameters())  # toggled_optimizer restored them
        trainer.save_checkpoint(tmp_path / f"{flag}.ckpt")
        states[flag] = torch.load(tmp_path / f"{flag}.ckpt", weights_only=False)["state_dict"]
    assert list(states[True]) == list(states[False])
    for key, value in states[False].items():  # the same computation, compiled: close, not bitwise
        torch.testing.assert_close(states[True][key], value, rtol=1e-3, atol=1e-3, msg=key)
