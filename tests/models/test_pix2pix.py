"""pix2pix: one-step behaviour, the objective switches, and a tiny model that learns."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from lit_gan.data.paired import PairedImageDataModule
from lit_gan.models.pix2pix import Pix2Pix
from tests.models.translation_fixtures import write_inverted_pairs


def tiny(**kw) -> Pix2Pix:
    return Pix2Pix(data_shape=(3, 32, 32), direction="AtoB", generator_options={"features": 8},
                   discriminator_options={"features": 8, "n_layers": 1}, **kw)


def batch(n: int = 2):
    g = torch.Generator().manual_seed(0)
    source = torch.rand(n, 3, 32, 32, generator=g) * 2 - 1
    return (-source, source, [f"{i}.png" for i in range(n)])  # (target, input, names): target = inverted


def test_losses_follow_the_paper():
    torch.manual_seed(0)
    model = tiny().eval()  # dropout off, so repeated forwards agree
    target, source, _ = batch()
    loss_g, logs = model.generator_loss(batch())
    assert loss_g.item() == pytest.approx(logs["train/loss_g_gan"].item() + 100 * logs["train/l1"].item(), rel=1e-5)
    assert logs["train/l1"].item() == pytest.approx((model.generator(source) - target).abs().mean().item(), rel=1e-5)
    loss_d, _ = model.discriminator_loss(batch())
    real = model.discriminator(torch.cat([source, target], 1))
    fake = model.discriminator(torch.cat([source, model.generator(source)], 1))
    full = torch.nn.functional.softplus(-real).mean() + torch.nn.functional.softplus(fake).mean()
    assert loss_d.item() == pytest.approx(0.5 * full.item(), rel=1e-4)  # D's objective halved


@pytest.mark.parametrize("objective, d_channels", [("l1+cgan", 6), ("cgan", 6), ("l1", 6), ("l1+gan", 3)])
def test_objective_switches(objective, d_channels):
    torch.manual_seed(0)
    model = tiny(objective=objective)
    assert next(model.discriminator.parameters()).shape[1] == d_channels  # conditional D reads concat(A, B)
    loss, logs = model.generator_loss(batch())
    if objective == "l1":
        assert loss.item() == pytest.approx(100 * logs["train/l1"].item()) and "train/loss_g_gan" not in logs
    if objective == "cgan":
        assert loss.item() == pytest.approx(logs["train/loss_g_gan"].item())


def test_paper_inference_keeps_the_model_unchanged():
    torch.manual_seed(0)
    model = tiny().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.translate(batch(4)[1])
    # every buffer, num_batches_tracked included: the batch statistics never reach the model
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training
    with pytest.raises(ValueError, match="AtoB"):
        model.translate(batch()[1], "BtoA")


def test_paper_inference_translates_each_image_on_its_own(monkeypatch):
    """BatchNorm with the batch's statistics and dropout on (sec. 3.3), yet an image's translation
    depends on that image only: not on its batch-mates, the batch size, or the RNG's state."""
    torch.manual_seed(0)
    model = tiny()
    x = batch(8)[1]
    torch.manual_seed(1)
    whole = model.translate(x)
    torch.manual_seed(2)
    state = torch.get_rng_state()
    parts = torch.cat([model.translate(x[i : i + 3]) for i in range(0, 8, 3)])
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is left where it was
    assert torch.equal(whole, parts)
    assert torch.equal(model.translate(x[5:6]), whole[5:6])
    # the dropout really is on, with the fixed seed's noise: another seed gives another image
    monkeypatch.setattr("lit_gan.models.paper_inference.INFERENCE_SEED", 1)
    assert not torch.equal(model.translate(x), whole)


def test_direction_mismatch_with_the_data_is_refused(tmp_path):
    root = write_inverted_pairs(tmp_path, counts=(("train", 2), ("val", 1), ("test", 1)))
    dm = PairedImageDataModule(root=str(root), direction="BtoA", load_size=36, crop_size=32, batch_size=1)
    trainer = L.Trainer(accelerator="cpu", max_steps=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(ValueError, match="direction"):
        trainer.fit(tiny(), datamodule=dm)


def test_a_tiny_pix2pix_learns_an_inversion(tmp_path):
    """Its test L1 falls well below the identity baseline (|A - B|)."""
    L.seed_everything(0, verbose=False)
    dm = PairedImageDataModule(root=str(write_inverted_pairs(tmp_path)), direction="AtoB", load_size=36,
                               crop_size=32, batch_size=4, seed=0)
    model = tiny()
    trainer = L.Trainer(accelerator="cpu", max_epochs=12, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    (result,) = trainer.test(model, datamodule=dm, verbose=False)
    dm.setup("test")
    identity = torch.stack([(item[1] - item[0]).abs().mean() for item in dm.test_set]).mean().item()
    assert result["test/l1"] < 0.3 * identity
    assert result["test/psnr"] > 10 and 0 < result["test/ssim"] <= 1


def test_sample_grid_shows_input_output_target(tmp_path):
    from lit_gan.callbacks.samples import SampleGrid

    root = write_inverted_pairs(tmp_path, counts=(("train", 4), ("val", 3), ("test", 2)))
    dm = PairedImageDataModule(root=str(root), direction="AtoB", load_size=36, crop_size=32)
    trainer = L.Trainer(accelerator="cpu", max_steps=2, default_root_dir=tmp_path, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[SampleGrid(0)])
    trainer.fit(tiny(), datamodule=dm)
    (png,) = (tmp_path / "lightning_logs").rglob("samples/*.png")
    from PIL import Image

    width, height = Image.open(png).size
    assert (width, height) == (2 + 3 * 34, 2 + 3 * 34)  # 3 columns (input, output, target) x 3 val images


def test_a_test_run_then_a_fit_with_validation(tmp_path):
    """The val / test scores (lit_gan.models.paired_scores) reset under the test loop's inference
    mode; the fit's validation after it must still update them (in-place updates failed)."""
    dm = PairedImageDataModule(root=str(write_inverted_pairs(tmp_path, counts=(("train", 2), ("val", 2), ("test", 2)))),
                               direction="AtoB", load_size=36, crop_size=32, batch_size=2)
    model = tiny()
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    (tested,) = trainer.test(model, datamodule=dm, verbose=False)
    trainer.fit(model, datamodule=dm)
    assert set(tested) == {"test/l1", "test/psnr", "test/ssim"}
    assert {"val/l1", "val/psnr", "val/ssim"} <= set(trainer.callback_metrics)
