"""The loaders every file-backed datamodule shares, built in one place.

A datamodule subclasses ``SplitDataModule``, calls ``super().__init__(batch_size, num_workers,
pin_memory)``, and fills ``train_set`` / ``val_set`` / ``test_set`` in ``setup`` (None for a split
the data does not have; lit_gan.data.contract). The base then gives Lightning its loaders:

- training: ``resumable_train_loader`` (lit_gan.data.resumable), whose position goes into
  checkpoints so a mid-epoch resume is exact; ``train_order()`` says how it is seeded and ordered;
- validation / test: the split in order, same workers and pin memory, persistent workers when
  there are any; ``[]`` for validation when ``validates()`` says there is none (Lightning then
  skips validation), a one-line FileNotFoundError for a test split the data lacks.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from torch.utils.data import DataLoader, Dataset

from lit_gan.data.resumable import resumable_train_loader


class SplitDataModule(L.LightningDataModule):
    """Train / val / test Datasets in, Lightning's three loaders out (module docstring)."""

    def __init__(self, batch_size: int, num_workers: int, pin_memory: bool) -> None:
        super().__init__()
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None

    # ---- hooks for what differs between datasets ---------------------------------
    def train_order(self) -> dict[str, Any]:
        """Keyword arguments of ``resumable_train_loader`` besides the loader's own: ``seed``
        (None: the process's torch seed), ``shuffle``, ``item_seeds`` (per-item jitter seeds)."""
        return {}

    def validates(self) -> bool:
        """Whether there is a validation split; the default, known after ``setup``: a non-empty ``val_set``."""
        return self.train_set is None or (self.val_set is not None and len(self.val_set) > 0)

    def missing_test_message(self) -> str:
        """What to do when the data has no test split (``test_set`` None after ``setup``)."""
        return f"{type(self).__name__} has no test split: put test data in place, or evaluate on another split."

    # ---- Lightning's loaders ------------------------------------------------------
    def _loader(self, ds: Dataset | None, train: bool) -> DataLoader:
        if ds is None:
            raise RuntimeError("Call datamodule.setup() before asking for a dataloader.")
        if train:  # resumable mid-epoch: the loader's position goes into checkpoints
            return resumable_train_loader(ds, self.batch_size, **self.train_order(),
                                          num_workers=self.num_workers, pin_memory=self.pin_memory)
        return DataLoader(ds, batch_size=self.batch_size, num_workers=self.num_workers,
                          pin_memory=self.pin_memory, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader | list:
        """The validation split in order; ``[]`` (Lightning: no validation) when there is none."""
        if not self.validates():
            return []
        return self._loader(self.val_set, train=False)

    def test_dataloader(self) -> DataLoader:
        if self.train_set is not None and self.test_set is None:
            raise FileNotFoundError(self.missing_test_message())
        return self._loader(self.test_set, train=False)
