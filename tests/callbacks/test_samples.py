"""SampleGrid: PNGs on disk, and the same picture in an image-capable logger."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
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


# ---- class-conditional models: one row per class -----------------------------------------------
class FakeConditional:
    """A deterministic conditional Sampler whose image encodes its label: a constant 2x2 image of
    value label / K (class ``nan_class``, if set, comes out NaN)."""

    data_shape = (1, 2, 2)
    sample_group = None
    iterations = 7

    def __init__(self, num_classes: int, nan_class: int | None = None) -> None:
        self.num_classes, self.nan_class, self.calls = num_classes, nan_class, []

    def noise(self, n, generator=None):
        import torch

        return torch.randn(n, 3, generator=generator)

    def generate(self, z, labels):
        import torch

        assert labels.dtype == torch.long and labels.shape == (len(z),)
        self.calls.append(labels)
        value = labels.float() / self.num_classes
        if self.nan_class is not None:
            value[labels == self.nan_class] = float("nan")
        return value.view(-1, 1, 1, 1).expand(-1, *self.data_shape).clone()


def _cells(png, rows: int, cols: int, side: int = 2, pad: int = 2) -> np.ndarray:
    """(rows, cols, 3): the colour of each grid cell's top-left pixel."""
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape[:2] == (rows * (side + pad) + pad, cols * (side + pad) + pad)
    return np.stack([[image[pad + r * (side + pad), pad + c * (side + pad)] for c in range(cols)] for r in range(rows)])


@pytest.mark.parametrize("num_images, num_classes, cols", [(64, 10, 6), (16, 4, 4), (3, 5, 1), (10, 4, 2)])
def test_conditional_grid_has_one_row_per_class(tmp_path, num_images, num_classes, cols):
    model = FakeConditional(num_classes)
    assert SampleGrid(0, num_images=num_images).render(None, model, tmp_path / "grid.png")
    cells = _cells(tmp_path / "grid.png", num_classes, cols)
    for c in range(num_classes):  # row c: class c, every column; the value label / K in [-1, 1] -> uint8
        expected = round((c / num_classes + 1) * 127.5)
        assert (cells[c] == expected).all(), (c, cells[c])
    assert [y.tolist() for y in model.calls] == [[c for c in range(num_classes) for _ in range(cols)]]


def test_conditional_grid_marks_nan_images_red(tmp_path):
    import warnings

    model = FakeConditional(4, nan_class=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SampleGrid(0, num_images=16).render(None, model, tmp_path / "grid.png")
    cells = _cells(tmp_path / "grid.png", 4, 4)
    assert (cells[2] == (255, 0, 0)).all()  # class 2's row is red ...
    assert (cells[[0, 1, 3]] != (255, 0, 0)).any(axis=-1).all()  # ... and only it
    assert any("4 of 16 images have NaN / inf pixels" in str(w.message) for w in caught)


def test_conditional_grid_uses_the_sampling_protocol(tmp_path):
    """Sample i of the grid is sample i of ``seed`` (lit_gan.evaluation.sampling) with class i // cols."""
    import torch

    from lit_gan.evaluation.sampling import LabelPlan, sample_rows

    class Echo(FakeConditional):
        def generate(self, z, labels):
            self.calls.append(labels)
            return z[:, :1, None, None].expand(-1, 1, 2, 2).tanh() + 0 * labels.view(-1, 1, 1, 1)

    model = Echo(3)
    grid = SampleGrid(0, num_images=6, seed=5)
    images = grid.samples(model, 6, LabelPlan(3, per_class=2))
    expected = torch.cat(list(sample_rows(model, 6, 5, range(6), 6, LabelPlan(3, per_class=2))))
    assert torch.equal(images, expected)
    assert model.calls[-1].tolist() == [0, 0, 1, 1, 2, 2]
