"""Pictures land on the scalars' step axis (Lightning's per-batch logger step), not on
``global_step`` (optimizer steps), read back from a real TensorBoard event file."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger

from lit_gan.callbacks.samples import SampleGrid
from lit_gan.data import Toy2DDataModule
from lit_gan.models import WGAN


def test_sample_pictures_share_the_scalars_step_axis(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # n_critic=3: one iteration is 3 batches and 4 optimizer steps, so the two axes differ
    model = WGAN(data_shape=(2,), latent_dim=4, generator="mlp", discriminator="mlp", n_critic=3,
                 generator_options={"hidden": [16], "output": "linear"}, discriminator_options={"hidden": [16]})
    trainer = L.Trainer(
        accelerator="cpu", max_steps=model.max_steps_for(7), logger=TensorBoardLogger(tmp_path, name="tb"),
        log_every_n_steps=1, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, limit_val_batches=0,
        callbacks=[SampleGrid(every_n_iterations=3, num_points=50)],  # iterations 3, 6 and 7 (the end)
    )
    trainer.fit(model, Toy2DDataModule(num_train=4096, num_val=64, batch_size=32))
    assert trainer.global_step == 28  # 7 iterations x (3 D + 1 G) steps

    events = EventAccumulator(str(tmp_path / "tb" / "version_0"), size_guidance={"images": 0, "scalars": 0}).Reload()
    iteration_at = {e.step: e.value for e in events.Scalars("train/iteration")}
    image_steps = [e.step for e in events.Images("samples")]
    # batch k (0-based) logs at step k: iteration 3 ends with batch 8, 6 with 17, 7 with 20
    assert image_steps == [8, 17, 20]
    assert [iteration_at[s] for s in image_steps] == [3, 6, 7]  # each beside its own iteration's scalars
    assert max(iteration_at) == 20 < trainer.global_step
