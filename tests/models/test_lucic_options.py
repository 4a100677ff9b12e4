"""What the Lucic et al. 2018 configs take from compare_gan: z ~ U(-1, 1) and LSGAN on D's
sigmoid output (its other differences are listed in each config's header)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from lit_gan.models import DCGAN

LUCIC = Path(__file__).resolve().parents[2] / "experiments" / "lucic2018"


def test_uniform_pm1_noise_is_u_minus_1_1():
    model = DCGAN(data_shape=(1, 28, 28), latent_dim=64, noise="uniform_pm1", generator_options={"features": 8},
                  discriminator_options={"features": 8})
    z = model.noise(4000, torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() < 1 and z.min() < -0.999 and z.max() > 0.999
    assert z.var().item() == pytest.approx(1 / 3, rel=0.02)  # U(-1, 1), not "uniform"'s unit variance
    with pytest.raises(ValueError, match="noise must be uniform, uniform_pm1 or normal"):
        DCGAN(noise="gaussian")


def test_lucic_configs_follow_compare_gan_noise_and_lsgan():
    for path in sorted(LUCIC.glob("*_*.yaml")):
        config = yaml.safe_load(path.read_text())
        if "model" not in config:
            continue
        args = config["model"]["init_args"]
        assert args["noise"] == "uniform_pm1", path.name
        if path.name.startswith("lsgan_"):
            assert args["loss"] == "least_squares_sigmoid", path.name
        header = path.read_text().split("\nseed_everything", 1)[0]
        assert "Not followed" in header and ("tf.image.resize_images" in header) == ("celeba" in path.name), path.name
