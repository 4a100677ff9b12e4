"""SplitDataModule: a new datamodule states its splits, the base gives Lightning the loaders."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lit_gan.data.base import SplitDataModule
from lit_gan.data.contract import problems
from lit_gan.data.resumable import ResumableSampler


class Squares(SplitDataModule):
    """All a new dataset needs: its shape and its splits (no val split when ``with_val`` is False)."""

    def __init__(self, batch_size: int = 4, with_val: bool = True) -> None:
        super().__init__(batch_size, num_workers=0, pin_memory=False)
        self.with_val = with_val

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (1, 2, 2)

    def setup(self, stage: str | None = None) -> None:
        def split(n: int) -> TensorDataset:  # every item different, in [-1, 1]
            return TensorDataset(torch.linspace(-1, 1, 4 * n).reshape(n, 1, 2, 2))

        self.train_set, self.test_set = split(12), None
        self.val_set = split(5) if self.with_val else None


def test_a_new_datamodule_meets_the_contract_with_the_base_loaders():
    dm = Squares()
    assert problems(dm) == []
    train, val = dm.train_dataloader(), dm.val_dataloader()
    assert isinstance(train.sampler, ResumableSampler) and train.drop_last and len(train) == 3
    assert isinstance(val, DataLoader) and [len(b[0]) for b in val] == [4, 1]  # in order, last batch kept


def test_loaders_before_setup_say_to_call_it():
    with pytest.raises(RuntimeError, match=r"Call datamodule.setup\(\)"):
        Squares().train_dataloader()


def test_no_val_split_means_no_validation_and_no_test_split_is_one_line():
    dm = Squares(with_val=False)
    dm.setup()
    assert dm.val_dataloader() == []
    with pytest.raises(FileNotFoundError, match="Squares has no test split") as err:
        dm.test_dataloader()
    assert "\n" not in str(err.value)


def test_training_order_resumes_mid_epoch():
    dm = Squares(batch_size=2)
    dm.setup()
    first = dm.train_dataloader()
    it = iter(first)
    next(it)
    state = first.state_dict()
    rest = [b[0] for b in it]
    resumed = dm.train_dataloader()
    resumed.load_state_dict(state)
    assert len(rest) == 5 and all(torch.equal(a, b[0]) for a, b in zip(rest, resumed))
