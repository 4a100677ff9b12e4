"""GeneratorEMA: StyleGAN2-ADA's half-life and ramp-up, the averaging itself, exact resume,
buffers copied, device, and the refusal of a non-positive half-life."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lit_gan.errors import SettingError
from lit_gan.training.ema import GeneratorEMA, averaged_state_dict, check_ema_settings, ema_beta


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _set_all(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)


@pytest.mark.parametrize("batch, seen, half_life, rampup, expected", [
    (32, 0, 10_000, None, 0.5 ** (32 / 10_000)),      # no ramp: the half-life alone
    (64, 10**6, 10_000, 0.05, 0.5 ** (64 / 10_000)),  # ramp past: seen * 0.05 = 50,000 > 10,000
    (64, 1_000, 10_000, 0.05, 0.5 ** (64 / 50)),      # ramp: half-life 1,000 * 0.05 = 50 images
    (64, 0, 10_000, 0.05, 0.0),                       # first step under ramp: 0.5 ** (64 / 1e-8) = 0, a copy
    (1, 0, 1, None, 0.5),                             # one image of a one-image half-life
])
def test_beta_matches_the_stylegan2_ada_formula(batch, seen, half_life, rampup, expected):
    assert ema_beta(batch, seen, half_life, rampup) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_a_fixed_decay_of_0_9999_has_a_half_life_near_6900_steps():
    # the point: ln 0.5 / ln 0.9999 steps; ema_beta's half-life in images gives it back
    steps = math.log(0.5) / math.log(0.9999)
    assert 6_900 < steps < 6_950
    assert ema_beta(1, 0, steps, None) == pytest.approx(0.9999, rel=1e-12)


def test_after_the_half_life_the_initial_weights_weigh_one_half():
    # start at 0, train weights pinned at 1: the average is 1 - (weight of the initial 0s)
    model = _net()
    _set_all(model, 0.0)
    ema = GeneratorEMA(model, half_life_images=640, rampup=None)
    _set_all(model, 1.0)
    for _ in range(10):  # 10 steps x 64 images = the half-life
        ema.update(model, batch_size=64)
    for p in ema.module.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 0.5))
    assert int(ema.images_seen) == 640 and int(ema.n_averaged) == 11


def test_the_average_of_a_constant_model_is_that_model():
    model = _net()
    ema = GeneratorEMA(model, half_life_images=100, rampup=0.05)
    for _ in range(5):
        ema.update(model, batch_size=8)
    for a, p in zip(ema.module.parameters(), model.parameters()):
        torch.testing.assert_close(a, p, rtol=0, atol=1e-7)


def test_with_ramp_up_the_first_update_copies_the_trained_model():
    model = _net()
    ema = GeneratorEMA(model, half_life_images=10_000, rampup=0.05)
    _set_all(model, 3.0)
    ema.update(model, batch_size=16)  # images_seen 0: beta 0
    assert all(torch.equal(p, torch.full_like(p, 3.0)) for p in ema.module.parameters())
    _set_all(model, 5.0)
    ema.update(model, batch_size=16)  # half-life 16 * 0.05 = 0.8 images: beta = 0.5 ** 20
    beta = 0.5 ** (16 / 0.8)
    for p in ema.module.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 3.0 * beta + 5.0 * (1 - beta)))


def test_buffers_are_copied_not_averaged_and_parameters_need_no_grad():
    model = _net()
    ema = GeneratorEMA(model, half_life_images=1e9, rampup=None)  # weights barely move
    model.train()
    model(torch.randn(16, 3))  # BatchNorm's running statistics change
    ema.update(model, batch_size=16)
    bn, bn_ema = model[1], ema.module[1]
    assert torch.equal(bn_ema.running_mean, bn.running_mean) and torch.equal(bn_ema.running_var, bn.running_var)
    assert int(bn_ema.num_batches_tracked) == 1
    assert not any(p.requires_grad for p in ema.module.parameters())
    assert all(p.requires_grad for p in model.parameters())  # the source is untouched


def test_state_dict_round_trip_continues_bit_identically():
    torch.manual_seed(1)
    model = _net()
    ema = GeneratorEMA(model, half_life_images=200, rampup=0.05)
    trajectory = [torch.randn(()) for _ in range(6)]

    def step(ema_model: GeneratorEMA, shift: torch.Tensor) -> None:
        with torch.no_grad():
            for p in model.parameters():
                p.add_(shift)
        ema_model.update(model, batch_size=32)

    for shift in trajectory[:3]:
        step(ema, shift)
    saved = {k: v.clone() for k, v in ema.state_dict().items()}
    assert {"n_averaged", "images_seen"} <= set(saved)
    model_at_save = {k: v.clone() for k, v in model.state_dict().items()}
    for shift in trajectory[3:]:
        step(ema, shift)

    model.load_state_dict(model_at_save)
    resumed = GeneratorEMA(_net(), half_life_images=200, rampup=0.05)  # a fresh run's EMA, then the checkpoint
    resumed.load_state_dict(saved)
    for shift in trajectory[3:]:
        step(resumed, shift)
    for (name, a), b in zip(ema.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_the_average_lives_on_the_models_device():
    model = nn.Linear(3, 2, device="meta")
    ema = GeneratorEMA(model)
    assert all(t.device.type == "meta" for t in [*ema.parameters(), *ema.buffers()])


@pytest.mark.parametrize("half_life", [0, -1, float("nan")])
def test_a_non_positive_half_life_is_a_setting_error(half_life):
    with pytest.raises(SettingError, match="EMA half-life must be a positive number of images") as err:
        GeneratorEMA(nn.Linear(2, 2), half_life_images=half_life)
    assert "\n" not in str(err.value)


def test_a_non_positive_rampup_is_a_setting_error():
    with pytest.raises(SettingError, match="ramp-up"):
        check_ema_settings(10_000, 0.0)
    check_ema_settings(10_000, None)  # None: no ramp-up, accepted


def test_update_refuses_an_empty_batch():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="batch size"):
        GeneratorEMA(model).update(model, batch_size=0)


def test_the_averaged_state_loads_into_a_fresh_copy_of_the_raw_module():
    class Holder(nn.Module):  # a LightningModule's layout: the raw G beside its average
        def __init__(self) -> None:
            super().__init__()
            self.generator = _net()
            self.generator_ema = GeneratorEMA(self.generator, half_life_images=10, rampup=None)

    holder = Holder()
    _set_all(holder.generator, 2.0)
    holder.generator_ema.update(holder.generator, batch_size=10)  # halfway: the average is not G
    state = averaged_state_dict(holder.state_dict(), "generator_ema.")
    assert state is not None and "n_averaged" not in state and "images_seen" not in state
    fresh = _net()
    fresh.load_state_dict(state)  # strict: exactly the raw module's keys
    for a, b in zip(fresh.parameters(), holder.generator_ema.module.parameters()):
        assert torch.equal(a, b)
    assert averaged_state_dict(holder.generator.state_dict(), "generator_ema.") is None  # no average kept
