"""Toy2DDataModule: mode layout, per-mode spread, determinism, loaders."""

from __future__ import annotations

import math

import pytest
import torch

from lit_gan.data.toy import PAPER_STD, Toy2DDataModule, toy_modes


def _dm(**kw) -> Toy2DDataModule:
    kw = {"num_train": 4000, "num_val": 1000, "batch_size": 100, **kw}
    dm = Toy2DDataModule(**kw)
    dm.setup("fit")
    return dm


def test_ring8_modes_on_radius_2_circle_equally_spaced():
    modes = Toy2DDataModule("ring8").modes
    assert modes.shape == (8, 2) and modes.dtype == torch.float32
    torch.testing.assert_close(modes.norm(dim=1), torch.full((8,), 2.0))
    angles = torch.atan2(modes[:, 1], modes[:, 0]).remainder(2 * math.pi).sort().values
    torch.testing.assert_close(angles, torch.arange(8) * (2 * math.pi / 8), atol=1e-6, rtol=0)


def test_grid25_modes_are_the_5x5_grid():
    modes = Toy2DDataModule("grid25").modes
    assert modes.shape == (25, 2)
    got = {tuple(p) for p in modes.tolist()}
    want = {(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert got == want


@pytest.mark.parametrize("name, std", [("ring8", 0.02), ("grid25", 0.05)])
def test_paper_default_std_and_override(name, std):
    assert Toy2DDataModule(name).mode_std == std == PAPER_STD[name]
    assert Toy2DDataModule(name, std=0.3).mode_std == 0.3


def test_properties_available_before_setup():
    dm = Toy2DDataModule("grid25")
    assert dm.data_shape == (2,)
    assert dm.modes.shape == (25, 2)
    dm.modes.add_(100.0)  # a copy: the benchmark cannot be moved by a caller
    torch.testing.assert_close(dm.modes, toy_modes("grid25"))


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_points_scatter_around_their_mode_with_the_given_std(name):
    dm = _dm(dataset=name, num_train=20_000)
    points, index = dm._splits["train"].tensors
    assert points.dtype == torch.float32 and index.dtype == torch.int64
    assert points.shape == (20_000, 2)
    offsets = points - dm.modes[index]
    # per-coordinate std of the offsets ~ std (20k points: sampling error < 2 %)
    assert offsets.std(dim=0).sub(dm.mode_std).abs().max() < 0.03 * dm.mode_std
    assert offsets.mean(dim=0).abs().max() < 0.05 * dm.mode_std
    # every mode is used, roughly equally
    counts = torch.bincount(index, minlength=len(dm.modes)).float()
    assert counts.min() > 0.8 * counts.mean()


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = _dm(seed=3), _dm(seed=3), _dm(seed=4)
    for split in ("train", "val", "test"):
        torch.testing.assert_close(a._splits[split].tensors[0], b._splits[split].tensors[0], rtol=0, atol=0)
        assert not torch.equal(a._splits[split].tensors[0], c._splits[split].tensors[0])
    # splits are independent draws, not copies of each other
    assert not torch.equal(a._splits["val"].tensors[0], a._splits["test"].tensors[0])


def test_setup_twice_keeps_the_data():
    dm = _dm()
    before = dm._splits["train"].tensors[0].clone()
    dm.setup("validate")
    assert torch.equal(dm._splits["train"].tensors[0], before)


def test_loaders():
    dm = _dm(num_train=1050, num_val=250, batch_size=100)
    train = list(dm.train_dataloader())
    assert len(train) == 10 and all(x.shape == (100, 2) for x, _ in train)  # drop_last
    val = list(dm.val_dataloader())
    assert [len(x) for x, _ in val] == [100, 100, 50]
    # validation is in order: concatenated batches == the stored split
    assert torch.equal(torch.cat([x for x, _ in val]), dm._splits["val"].tensors[0])
    x, y = next(iter(dm.test_dataloader()))
    assert x.shape == (100, 2) and y.dtype == torch.int64


def test_loader_before_setup_says_so():
    with pytest.raises(RuntimeError, match="setup"):
        Toy2DDataModule(num_train=500, batch_size=100).train_dataloader()


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"dataset": "ring9"}, "ring8"),
        ({"std": 0.0}, "std"),
        ({"num_train": 10, "batch_size": 256}, "num_train"),
    ],
)
def test_bad_arguments_are_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        Toy2DDataModule(**kw)


def test_hyperparameters_saved():
    dm = Toy2DDataModule("grid25", num_train=500, num_val=50, std=None, batch_size=50, seed=7)
    assert dict(dm.hparams) == {
        "dataset": "grid25", "num_train": 500, "num_val": 50, "std": None, "batch_size": 50, "seed": 7
    }
