"""ResumableSampler / resumable_train_loader: the data order is a function of (seed, epoch),
and a loader restored from its state_dict continues with exactly the batches that were next."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from lit_gan.data.resumable import ResumableSampler, resumable_train_loader


def _batches(loader, n=None):
    out = []
    for i, (x,) in enumerate(loader):
        if n is not None and i == n:
            break
        out.append(x.tolist())
    return out


def test_order_depends_on_seed_and_epoch_only():
    a, b = ResumableSampler(50, seed=3), ResumableSampler(50, seed=3)
    b.set_epoch(2)
    first = list(a)  # epoch 0
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert list(a) != first  # a plain loop's next pass is the next epoch
    a.set_epoch(2)
    assert list(a) == list(b)
    assert list(ResumableSampler(50, seed=3, shuffle=False)) == list(range(50))


def test_item_seeds_are_pairs_and_reproducible():
    pairs = list(ResumableSampler(10, seed=1, item_seeds=True))
    assert pairs == list(ResumableSampler(10, seed=1, item_seeds=True))
    assert all(isinstance(i, int) and isinstance(s, int) for i, s in pairs)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_resumes_mid_epoch_with_the_next_batches(num_workers):
    data = TensorDataset(torch.arange(40))
    loader = resumable_train_loader(data, 4, seed=5, num_workers=num_workers)
    straight = _batches(loader)
    interrupted = resumable_train_loader(data, 4, seed=5, num_workers=num_workers)
    iterator = iter(interrupted)
    seen = [next(iterator)[0].tolist() for _ in range(3)]
    state = interrupted.state_dict()
    restored = resumable_train_loader(data, 4, seed=99, num_workers=num_workers)  # the seed comes from the state
    restored.load_state_dict(state)
    assert seen + _batches(restored) == straight


def test_a_loaded_position_wins_over_set_epoch():
    sampler = ResumableSampler(8, seed=0)
    sampler.set_epoch(1)
    iterator = iter(sampler)
    head = [next(iterator) for _ in range(3)]
    resumed = ResumableSampler(8, seed=0)
    resumed.load_state_dict(sampler.state_dict())
    resumed.set_epoch(5)  # what a loop may call before iterating; the interrupted pass continues
    assert head + list(resumed) == list(ResumableSampler(8, seed=0).order(1)[0])


def test_loader_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    _batches(resumable_train_loader(TensorDataset(torch.arange(12)), 4, seed=1), 1)
    assert torch.equal(torch.get_rng_state(), before)


def test_ranks_take_disjoint_shares_of_one_order():
    """Two ranks' shares together are the epoch's order (padded to a multiple of 2), each once."""
    ranks = [ResumableSampler(11, seed=4, num_replicas=2, rank=r) for r in (0, 1)]
    for sampler in ranks:
        sampler.set_epoch(3)
    shares = [list(sampler) for sampler in ranks]
    assert [len(s) for s in shares] == [6, 6] == [len(s) for s in ranks]
    order = list(ResumableSampler(11, seed=4).order(3)[0])
    interleaved = [i for pair in zip(*shares) for i in pair]
    assert interleaved == order + order[:1]  # DistributedSampler's padding: the first item again


def test_lightning_leaves_the_sampler_alone_under_ddp():
    """A DistributedSampler: Lightning does not wrap it in its stateless DistributedSamplerWrapper
    (which dropped set_epoch and the position: inexact DDP resumes)."""
    from torch.utils.data import DistributedSampler

    assert isinstance(ResumableSampler(8, seed=0, num_replicas=2, rank=1), DistributedSampler)


def test_a_rank_resumes_its_share_from_rank_0s_saved_position():
    """The checkpoint holds rank 0's loader state; every rank has consumed as many items."""
    straight = ResumableSampler(20, seed=2, num_replicas=2, rank=1)
    straight.set_epoch(1)
    whole = list(straight)
    rank0 = ResumableSampler(20, seed=2, num_replicas=2, rank=0)
    rank0.set_epoch(1)
    iterator = iter(rank0)
    for _ in range(4):
        next(iterator)
    resumed = ResumableSampler(20, seed=2, num_replicas=2, rank=1)
    resumed.load_state_dict(rank0.state_dict())
    assert list(resumed) == whole[4:]
