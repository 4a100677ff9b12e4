"""Training loaders whose position goes into the checkpoint, so a mid-epoch resume is exact.

Lightning saves the state of every training loader that has ``state_dict`` /
``load_state_dict`` (``loops.fit_loop.state_dict.combined_loader`` in the checkpoint) and
restores it before the resumed epoch continues. ``torchdata``'s ``StatefulDataLoader`` is
such a loader; it asks its sampler for its state. ``ResumableSampler`` is that sampler:

- the order of epoch ``e`` is a permutation drawn from ``numpy.random.default_rng([seed, e])``,
  so it depends on nothing else (not the global RNG, not how many epochs this process ran);
- its state is ``{seed, epoch, yielded}``; after ``load_state_dict`` the next pass starts at
  item ``yielded`` of that epoch's order, which is where the interrupted run stopped.

Under DDP the sampler shards itself: it is a ``DistributedSampler`` (so Lightning does not wrap
it), every rank draws the same (seed, epoch) order and takes every K-th item of it, and the
position it saves is this rank's count of items, the same on every rank. Lightning's own
wrapper (``DistributedSamplerWrapper``, used for any other sampler) is stateless and does not
forward ``set_epoch``: resumes under DDP then continued from another epoch's order, 0.031-0.097
away from the uninterrupted run's weights (DESIGN.md). Either way the data order of a resumed
run equals the uninterrupted run's (``tests/test_resume.py``, ``tests/test_resume_ddp.py``).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler
from torchdata.stateful_dataloader import StatefulDataLoader

from lit_gan import distributed


class ResumableSampler(DistributedSampler):
    """Indices ``0..length-1`` in a (seed, epoch)-determined order, resumable mid-epoch, and this
    rank's share of them under DDP.

    With ``item_seeds`` it yields ``(index, item_seed)`` pairs (the image-folder datasets draw
    their jitter from the item's seed, so crops do not depend on workers or DDP).
    Lightning calls ``set_epoch`` before each epoch; without it (a plain loop) every pass
    advances the epoch, so consecutive passes differ.

    ``num_replicas`` / ``rank`` default to the initialized process group's (1 / 0 without one):
    rank r takes items r, r + K, r + 2K, ... of the epoch's order, padded with its first items
    to a multiple of K as ``DistributedSampler`` does, so every rank yields the same count.
    """

    def __init__(self, length: int, seed: int, shuffle: bool = True, item_seeds: bool = False,
                 num_replicas: int | None = None, rank: int | None = None) -> None:
        if length < 0:
            raise ValueError(f"ResumableSampler: length must be >= 0, got {length}")
        num_replicas = num_replicas if num_replicas is not None else distributed.world_size()
        rank = rank if rank is not None else distributed.rank()
        # DistributedSampler's fields (num_replicas, rank, num_samples, total_size) describe the shard;
        # its own shuffling is not used (``order`` is)
        super().__init__(range(length), num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=int(seed))
        self.length, self.item_seeds = length, item_seeds
        self._resume_at: tuple[int, int] | None = None  # (epoch, position) from load_state_dict
        self._pass: tuple[int, int] | None = None  # (epoch, items yielded) of the latest pass

    def __len__(self) -> int:
        return self.num_samples  # this rank's share (all of it on one process)

    def order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, per-item seeds) of one epoch."""
        rng = np.random.default_rng([self.seed, epoch])
        indices = rng.permutation(self.length) if self.shuffle else np.arange(self.length)
        seeds = rng.integers(0, 2**63, self.length, dtype=np.uint64)
        return indices, seeds

    def __iter__(self) -> Iterator[Any]:
        # A generator: the epoch is read at the first ``next``, as with torch's samplers, so
        # Lightning's ``set_epoch`` after ``iter(loader)`` still takes effect.
        # A loaded position wins over ``set_epoch``: the interrupted pass continues, whatever
        # epoch number the loop passes in before it.
        epoch, start = self._resume_at if self._resume_at is not None else (self.epoch, 0)
        self._resume_at, self.epoch = None, epoch + 1  # a plain loop's next pass is a new epoch
        self._pass = (epoch, start)
        indices, seeds = self._shard(*self.order(epoch))
        for position in range(start, len(indices)):
            self._pass = (epoch, position + 1)
            yield (int(indices[position]), int(seeds[position])) if self.item_seeds else int(indices[position])

    def _shard(self, indices: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """This rank's items of an epoch's order (all of them on one process)."""
        if self.num_replicas == 1:
            return indices, seeds
        pad = self.total_size - self.length  # < num_replicas: repeat the first items, as DistributedSampler
        if pad and self.length:
            indices = np.concatenate([indices, np.resize(indices, pad)])
            seeds = np.concatenate([seeds, np.resize(seeds, pad)])
        return indices[self.rank::self.num_replicas], seeds[self.rank::self.num_replicas]

    def state_dict(self) -> dict[str, int]:
        if self._resume_at is not None:  # loaded, not yet iterated
            epoch, yielded = self._resume_at
        elif self._pass is not None:
            epoch, yielded = self._pass
        else:
            epoch, yielded = self.epoch, 0
        # ``yielded`` counts this rank's items; every rank has yielded as many
        return {"seed": self.seed, "epoch": epoch, "yielded": yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])
        self._resume_at = (self.epoch, int(state["yielded"]))


def default_seed() -> int:
    """The shuffling seed when a datamodule has none: the process's torch seed, which
    ``seed_everything`` sets (and the checkpoint keeps the sampler's seed, so a resume
    continues the same order even without one)."""
    return int(torch.initial_seed()) % 2**63


def _same_on_every_rank(seed: int) -> int:
    """Rank 0's seed on every rank: each rank's share is cut from one order, which must be the
    same list everywhere (without ``seed_everything`` each process has its own torch seed)."""
    return int(distributed.rank_zero_decides(lambda: seed))


def resumable_train_loader(dataset: Dataset, batch_size: int, seed: int | None = None, *, shuffle: bool = True,
                           item_seeds: bool = False, drop_last: bool = True, num_workers: int = 0,
                           pin_memory: bool = False) -> StatefulDataLoader:
    """A training loader whose position a checkpoint holds (see the module docstring)."""
    seed = _same_on_every_rank(default_seed() if seed is None else int(seed))
    sampler = ResumableSampler(len(dataset), seed, shuffle, item_seeds)
    # Its own generator: a loader draws a worker base seed whenever an iterator is made, and from
    # the global RNG that draw would shift the noise stream of a resumed run by one number.
    return StatefulDataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last,
                              num_workers=num_workers, pin_memory=pin_memory,
                              persistent_workers=num_workers > 0, generator=torch.Generator().manual_seed(seed))
