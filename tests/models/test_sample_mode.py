"""sample_mode: eval (running statistics, compare_gan) vs batch_stats (the DCGAN / WGAN
reference code): what each computes, that running statistics never move, old checkpoints."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from lit_gan.models import DCGAN, WGAN, WGANGP
from lit_gan.models.batch_stats import batch_statistics
from lit_gan.evaluation.sampling import sample_rows


def _dcgan(**kw) -> DCGAN:
    torch.manual_seed(0)
    model = DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                  discriminator_options={"features": 8}, **kw)
    # running statistics far from any batch's, so the two modes cannot agree by accident
    for m in model.generator.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.fill_(0.5)
            m.running_var.fill_(4.0)
    return model


def _buffers(model) -> dict[str, torch.Tensor]:
    return {n: b.clone() for n, b in model.generator.named_buffers()}


def test_batch_stats_normalises_with_the_batch_and_leaves_the_buffers_alone():
    model = _dcgan(sample_mode="batch_stats", sample_batch_size=4)
    z = model.noise(4, torch.Generator().manual_seed(1))
    reference = copy.deepcopy(model.generator).train()  # BatchNorm on the batch's own statistics
    before = _buffers(model)
    out = model.generate(z)
    with torch.no_grad():
        torch.testing.assert_close(out, reference(z))
    for name, buffer in _buffers(model).items():  # running stats and num_batches_tracked bit-identical
        assert torch.equal(buffer, before[name]), name
    assert model.generator.training  # mode restored
    assert not torch.allclose(out, _dcgan().generate(z), atol=1e-3)  # eval mode is another function


def test_batch_stats_depends_on_the_group_and_groups_by_sample_batch_size():
    model = _dcgan(sample_mode="batch_stats", sample_batch_size=3)
    z = model.noise(7, torch.Generator().manual_seed(2))
    out = model.generate(z)  # groups [0, 3), [3, 6), [6, 7)
    torch.testing.assert_close(out[:3], model.generate(z[:3]))
    torch.testing.assert_close(out[3:6], model.generate(z[3:6]))
    assert not torch.allclose(out[:2], model.generate(z[:2]), atol=1e-4)  # another batch, another sample


@pytest.mark.parametrize("rows", [range(10), range(2, 9), range(4, 5)])
def test_sample_rows_is_the_same_at_any_batch_size_and_in_any_shard(rows):
    model = _dcgan(sample_mode="batch_stats", sample_batch_size=4)
    whole = torch.cat(list(sample_rows(model, 10, 5, range(10), batch_size=10)))
    for batch_size in (1, 3, 250):
        part = torch.cat(list(sample_rows(model, 10, 5, rows, batch_size)))
        torch.testing.assert_close(part, whole[rows.start : rows.stop])


def test_batch_statistics_restores_modes_and_flags_and_keeps_dropout_off():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.9))
    net.train()
    with batch_statistics(net):
        assert net[1].training and not net[1].track_running_stats and not net[2].training
        y = net(torch.randn(8, 3))
        assert (y != 0).float().mean() > 0.5  # dropout 0.9 would zero most outputs
    assert net.training and net[1].track_running_stats and net[2].training


def test_eval_is_the_default_and_bad_values_are_refused():
    assert _dcgan().sample_mode == "eval" and _dcgan().sample_group is None
    assert _dcgan(sample_mode="batch_stats", sample_batch_size=5).sample_group == 5
    with pytest.raises(ValueError, match="sample_mode must be one of"):
        _dcgan(sample_mode="train")
    with pytest.raises(ValueError, match="sample_batch_size must be >= 1"):
        _dcgan(sample_mode="batch_stats", sample_batch_size=0)


@pytest.mark.parametrize("cls", [WGAN, WGANGP])
def test_wgan_models_take_the_option(cls):
    model = cls(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                discriminator_options={"features": 8}, sample_mode="batch_stats", sample_batch_size=16)
    assert model.sample_group == 16 and model.hparams.sample_mode == "batch_stats"


def test_a_checkpoint_without_the_option_loads_in_eval_mode(tmp_path):
    model = _dcgan()
    state = {"state_dict": model.state_dict(), "pytorch-lightning_version": "2.6.6",
             "hyper_parameters": {k: v for k, v in model.hparams.items()
                                  if k not in ("sample_mode", "sample_batch_size", "d_loss_scale")}}
    torch.save(state, tmp_path / "old.ckpt")
    loaded = DCGAN.load_from_checkpoint(tmp_path / "old.ckpt")
    assert loaded.sample_mode == "eval"
    z = model.noise(3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(loaded.generate(z), model.generate(z))


def test_the_protocol_card_records_the_sampling_mode():
    from lit_gan.evaluation.features import sampling_card

    assert sampling_card(_dcgan())["sample_mode"] == "eval" and "sample_batch_size" not in sampling_card(_dcgan())
    card = sampling_card(_dcgan(sample_mode="batch_stats", sample_batch_size=7))
    assert card["sample_mode"] == "batch_stats" and card["sample_batch_size"] == 7


def test_each_paper_config_samples_as_its_reference_code():
    from pathlib import Path

    import yaml

    experiments = Path(__file__).resolve().parents[2] / "experiments"
    for folder, mode in (("radford2015", "batch_stats"), ("arjovsky2017", "batch_stats"),
                         ("gulrajani2017", "batch_stats"), ("lucic2018", "eval")):
        configs = [c for c in (yaml.safe_load(p.read_text()) for p in (experiments / folder).glob("*.yaml"))
                   if "model" in c]
        assert configs
        for config in configs:
            args = config["model"]["init_args"]
            assert args["sample_mode"] == mode, folder
            if mode == "batch_stats":  # groups the size of the training batch
                assert args["sample_batch_size"] == config["data"]["init_args"]["batch_size"], folder
