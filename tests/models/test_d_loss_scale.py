"""d_loss_scale: the Goodfellow et al. 2014 code minimises 0.5 * (real + fake) for D."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from lit_gan.models import GAN

REPO = Path(__file__).resolve().parents[2]


def _gan(**kw) -> GAN:
    torch.manual_seed(0)
    return GAN(data_shape=(1, 4, 4), latent_dim=8, generator_options={"hidden": [16]},
               discriminator_options={"units": 8, "pieces": 2}, **kw)


def test_halved_loss_is_log_2_for_an_undecided_discriminator():
    # D's last layer at zero: every logit is 0, D(x) = 1/2, and eq. 1's loss is 2 log 2
    for scale, expected in ((1.0, 2 * math.log(2)), (0.5, math.log(2))):
        model = _gan(d_loss_scale=scale)
        last = model.discriminator.net[-1]
        torch.nn.init.zeros_(last.weight), torch.nn.init.zeros_(last.bias)
        loss, _ = model.discriminator_loss(torch.rand(6, 1, 4, 4) * 2 - 1)
        assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_halved_loss_halves_the_sgd_step():
    grads = {}
    for scale in (1.0, 0.5):
        model = _gan(d_loss_scale=scale)  # same weights for both
        torch.manual_seed(1)  # same batch, fakes and dropout masks
        loss, _ = model.discriminator_loss(torch.rand(6, 1, 4, 4) * 2 - 1)
        grads[scale] = torch.autograd.grad(loss, list(model.discriminator.parameters()))
    for full, half in zip(grads[1.0], grads[0.5]):
        torch.testing.assert_close(half, 0.5 * full)  # SGD: step = lr * grad, so half the step


def test_default_is_unscaled_and_bad_values_are_refused():
    assert _gan().d_loss_scale == 1.0
    with pytest.raises(ValueError, match="d_loss_scale must be > 0"):
        _gan(d_loss_scale=0.0)


def test_only_the_goodfellow_config_halves_d():
    scales = {}
    for path in sorted((REPO / "experiments").rglob("*.yaml")):
        model = (yaml.safe_load(path.read_text()) or {}).get("model") or {}
        scales[path.relative_to(REPO).as_posix()] = (model.get("init_args") or {}).get("d_loss_scale", 1.0)
    assert scales.pop("experiments/goodfellow2014/gan_mnist.yaml") == 0.5
    assert set(scales.values()) == {1.0}
