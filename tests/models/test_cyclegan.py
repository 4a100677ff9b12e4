"""CycleGAN: losses, name map, pools in checkpoints, and a tiny model whose cycle error falls."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from lit_gan.data.unpaired import UnpairedImageDataModule
from lit_gan.models.cyclegan import CycleGAN
from tests.models.translation_fixtures import write_unpaired


def tiny(**kw) -> CycleGAN:
    return CycleGAN(data_shape=(3, 32, 32), generator_options={"features": 8, "n_blocks": 2},
                    discriminator_options={"features": 8, "n_layers": 1}, **kw)


def images(seed: int, n: int = 2):
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_generator_loss_is_gan_plus_cycle_plus_identity():
    torch.manual_seed(0)
    model = tiny()
    a, b = images(1), images(2)
    loss, logs = model.generator_loss((a, b))
    expected = logs["train/loss_g_gan"] + 10 * logs["train/cycle_l1"] + 0.5 * 10 * logs["train/identity_l1"]
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    cycle = (model.G_BA(model.G_AB(a)) - a).abs().mean() + (model.G_AB(model.G_BA(b)) - b).abs().mean()
    assert logs["train/cycle_l1"].item() == pytest.approx(cycle.item(), rel=1e-5)
    loss0, logs0 = tiny(lambda_identity=0).generator_loss((a, b))
    assert "train/identity_l1" not in logs0


@pytest.mark.parametrize("objective, gan, forward, backward", [
    ("cyclegan", 1, 1, 1), ("cycle", 0, 1, 1), ("gan", 1, 0, 0), ("gan+forward", 1, 1, 0), ("gan+backward", 1, 0, 1)])
def test_table4_objectives_pick_their_terms(objective, gan, forward, backward):
    """Zhu et al. 2017, Table 4: forward = A -> B -> A, backward = B -> A -> B."""
    torch.manual_seed(0)
    model = tiny(objective=objective, lambda_identity=0).eval()  # eval: the forwards below repeat exactly
    a, b = images(1), images(2)
    loss, logs = model.generator_loss((a, b))
    with torch.no_grad():
        fwd = (model.G_BA(model.G_AB(a)) - a).abs().mean()
        bwd = (model.G_AB(model.G_BA(b)) - b).abs().mean()
        adv = ((model.D_B(model.G_AB(a)) - 1) ** 2).mean() + ((model.D_A(model.G_BA(b)) - 1) ** 2).mean()
    assert loss.item() == pytest.approx((gan * adv + 10 * (forward * fwd + backward * bwd)).item(), rel=1e-5)
    assert ("train/loss_g_gan" in logs) == bool(gan)
    assert logs["train/cycle_l1"].item() == pytest.approx((fwd + bwd).item(), rel=1e-5)  # logged whatever it trains


def test_an_unknown_objective_is_refused():
    with pytest.raises(ValueError, match="Table 4"):
        tiny(objective="cycle+identity")


def test_discriminators_learn_from_the_pools():
    torch.manual_seed(0)
    model = tiny(pool_size=3)
    for seed in range(3):
        model.discriminator_loss((images(seed), images(seed + 10)))
    assert len(model.pool_A) == len(model.pool_B) == 3
    assert model.generator_for("AtoB") is model.G_AB and model.generator_for("BtoA") is model.G_BA


def test_pools_round_trip_through_a_checkpoint(tmp_path):
    L.seed_everything(0, verbose=False)
    dm = UnpairedImageDataModule(root=str(write_unpaired(tmp_path)), dataset="tiny", load_size=36, crop_size=32,
                                 batch_size=2, seed=0)
    model = tiny(pool_size=5)
    trainer = L.Trainer(accelerator="cpu", max_steps=model.max_steps_for(4), logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, datamodule=dm)
    trainer.save_checkpoint(tmp_path / "c.ckpt")
    state = torch.load(tmp_path / "c.ckpt", weights_only=True)  # still loadable safely
    assert len(state["lit_gan"]["image_pools"]) == 1
    restored = CycleGAN.load_from_checkpoint(tmp_path / "c.ckpt")
    for name in ("pool_A", "pool_B"):
        saved, loaded = getattr(model, name).images, getattr(restored, name).images
        assert len(loaded) == 5 and all(torch.equal(x, y) for x, y in zip(saved, loaded))


def test_a_tiny_cyclegan_reduces_its_cycle_error(tmp_path):
    L.seed_everything(0, verbose=False)
    dm = UnpairedImageDataModule(root=str(write_unpaired(tmp_path)), dataset="tiny", load_size=36, crop_size=32,
                                 batch_size=4, seed=0, val_from_test=True)
    model = tiny()
    trainer = L.Trainer(accelerator="cpu", max_epochs=5, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    (before,) = trainer.test(model, datamodule=dm, verbose=False)
    trainer.fit(model, datamodule=dm)
    (after,) = trainer.test(model, datamodule=dm, verbose=False)
    assert after["test/cycle_l1"] < 0.6 * before["test/cycle_l1"]
