"""SampleGrid: PNGs on disk, and the same picture in an image-capable logger."""

from __future__ import annotations

import lightning as L
import numpy as np
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image

from lit_gan.callbacks.periodic import to_uint8_grid
from lit_gan.callbacks.samples import SampleGrid
from lit_gan.data import MNISTDataModule
from lit_gan.models import DCGAN


def test_grid_conversion_clamps_and_rounds():
    import torch

    images = torch.tensor([-1.5, -1.0, -0.999, 0.0, 0.999, 1.0, 1.5]).view(7, 1, 1, 1)
    grid = to_uint8_grid(images, nrow=7)  # padding 2 -> 1 px images at columns 2, 5, ...
    values = grid[2, 2::3, 0].tolist()
    assert values == [0, 0, 0, 128, 255, 255, 255]


def test_sample_grid_writes_png_and_tensorboard_image(tmp_path, tiny_mnist):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = DCGAN(data_shape=(1, 28, 28), generator_options={"features": 8}, discriminator_options={"features": 8})
    logger = TensorBoardLogger(tmp_path, name="tb")
    trainer = L.Trainer(
        accelerator="cpu", max_steps=model.max_steps_for(4), logger=logger, enable_checkpointing=False,
        enable_progress_bar=False, num_sanity_val_steps=0, limit_val_batches=0,
        callbacks=[SampleGrid(every_n_iterations=2, num_images=16)],
    )
    trainer.fit(model, MNISTDataModule(str(tiny_mnist), val_size=64, batch_size=16))

    pngs = sorted((tmp_path / "tb" / "version_0" / "samples").glob("*.png"))
    assert [p.name for p in pngs] == ["iter_0000002.png", "iter_0000004.png"]
    image = np.asarray(Image.open(pngs[-1]))
    assert image.shape[:2] == (4 * 28 + 5 * 2, 4 * 28 + 5 * 2)  # 4x4 grid with 2 px padding

    events = EventAccumulator(str(tmp_path / "tb" / "version_0"), size_guidance={"images": 0}).Reload()
    logged = events.Images("samples")
    assert [e.step for e in logged] == [1, 3]  # the logger steps (batches) of iterations 2 and 4
    assert (logged[-1].height, logged[-1].width) == image.shape[:2]
