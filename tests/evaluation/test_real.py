"""Reading a split's real images leaves the global RNG alone (the metrics callback reads them
during a fit: a draw there would change the training noise)."""

from __future__ import annotations

import torch

from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.real import real_images_and_labels


def test_reading_real_images_draws_nothing_from_the_global_rng(tiny_mnist):
    dm = MNISTDataModule(root=str(tiny_mnist), val_size=32, batch_size=16)
    dm.setup("fit")
    before = torch.get_rng_state()
    images, labels = real_images_and_labels(dm, "val", None, batch_size=10)
    assert torch.equal(torch.get_rng_state(), before)
    assert images.shape == (32, 1, 28, 28) and images.dtype == torch.uint8 and labels.shape == (32,)
