"""The mode-collapse remedies inside the models: one training step, packing with a penalty,
validation batches that are not whole packs, and the batch-size check at fit start."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lit_gan.data.toy import Toy2DDataModule
from lit_gan.models import GAN, WGANGP
from lit_gan.nets.remedies import Packed

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]


def _toy(model_cls=GAN, **d_options):
    kw = dict(data_shape=(2,), latent_dim=2, noise="normal", generator="mlp", discriminator="mlp",
              generator_options={"hidden": [16], "output": "linear"},
              discriminator_options={"hidden": [16], **d_options})
    if model_cls is GAN:
        kw.update(optimizer="adam", lr_g=1e-3, lr_d=1e-3, lr_schedule="constant", final_momentum=None)
    return model_cls(**kw)


def _trainer(**kw) -> L.Trainer:
    return L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                     enable_model_summary=False, log_every_n_steps=1, **kw)


def _loader(n: int, batch_size: int) -> DataLoader:
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    return DataLoader(TensorDataset(x, torch.zeros(n, dtype=torch.long)), batch_size=batch_size)


@pytest.mark.parametrize("options", [{"pack": 2}, {"minibatch_discrimination": True, "minibatch_kernels": 8},
                                     {"minibatch_stddev": True, "pack": 4}])
def test_a_step_with_a_remedy_trains_only_d_then_g_and_validates_a_ragged_batch(options):
    torch.manual_seed(0)
    model = _toy(**options)
    d0 = {n: p.detach().clone() for n, p in model.discriminator.named_parameters()}
    trainer = _trainer(max_steps=2, limit_val_batches=1, num_sanity_val_steps=0, val_check_interval=1)
    trainer.fit(model, _loader(16, 8), _loader(7, 7))  # a validation batch of 7: cut to whole packs
    assert model.iterations == 1
    assert all(not torch.equal(p.detach(), d0[n]) for n, p in model.discriminator.named_parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert torch.isfinite(trainer.callback_metrics["val/loss_d"])


def test_wgan_gp_with_a_packed_critic_penalises_packs():
    torch.manual_seed(0)
    model = _toy(WGANGP, pack=2)
    assert isinstance(model.discriminator, Packed)
    trainer = _trainer(max_steps=6, limit_val_batches=0)
    trainer.fit(model, _loader(48, 8))
    assert model.iterations == 1
    assert torch.isfinite(trainer.callback_metrics["train/gradient_penalty"])


def test_a_batch_size_that_is_not_a_multiple_of_the_pack_is_refused_at_fit_start():
    model = _toy(pack=4)
    data = Toy2DDataModule("ring8", num_train=100, num_val=10, batch_size=10)
    with pytest.raises(ValueError, match="batch_size is 10, not a multiple of 4; set it to 8"):
        _trainer(max_steps=1).fit(model, datamodule=data)


def test_a_last_validation_batch_shorter_than_a_pack_is_skipped_not_an_error():
    torch.manual_seed(0)
    model = _toy(pack=4)
    trainer = _trainer(max_steps=2, num_sanity_val_steps=0, val_check_interval=1)
    trainer.fit(model, _loader(16, 8), _loader(10, 4))  # validation batches of 4, 4, 2: the 2 is skipped
    assert torch.isfinite(trainer.callback_metrics["val/loss_d"])
    assert model.whole_packs(torch.zeros(3, 2)) is None and len(model.whole_packs(torch.zeros(7, 2))) == 4
