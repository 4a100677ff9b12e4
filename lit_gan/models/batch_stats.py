"""Running a generator with batch statistics, as the DCGAN and WGAN reference code samples.

Radford et al.'s dcgan_code, Arjovsky et al.'s WassersteinGAN and Gulrajani et al.'s
improved_wgan_training never switch G to inference mode: every sample grid normalises
each BatchNorm layer with the statistics of the batch being generated. compare_gan
(Lucic et al. 2018) samples with the running averages instead (``is_training=False``).

A SyncBatchNorm (``--trainer.sync_batchnorm true``) in training mode all-reduces its
statistics across ranks. Sampling runs it as a plain BatchNorm instead: pictures are
drawn on rank 0 alone (a collective there waits forever for the others), and a sample
must depend on its own group only, not on what other ranks generate beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

SampleMode = Literal["eval", "batch_stats"]
SAMPLE_MODES = ("eval", "batch_stats")


@contextmanager
def batch_statistics(net: nn.Module, dropout: bool = False) -> Iterator[None]:
    """``net`` in eval mode except its BatchNorm layers, which use the current batch's
    statistics. Their running statistics (and ``num_batches_tracked``) stay bit-identical:
    with ``track_running_stats`` off, a BatchNorm in training mode neither reads nor
    updates its buffers. Dropout stays off unless ``dropout`` (pix2pix's test time, Isola
    et al. 2017 sec. 3.3). SyncBatchNorm layers use this batch's statistics too, with no
    collective (see the module docstring). Modes and flags are restored on exit."""
    was_training = net.training
    norms = [m for m in net.modules() if isinstance(m, _BatchNorm)]
    tracked = [m.track_running_stats for m in norms]
    synced = [(m, m.__dict__.get("forward")) for m in norms if isinstance(m, nn.SyncBatchNorm)]
    net.train(dropout)
    for m in norms:
        m.train()
        m.track_running_stats = False
    for m, _ in synced:
        m.forward = _BatchNorm.forward.__get__(m)  # BatchNorm's own forward: F.batch_norm, local statistics
    try:
        yield
    finally:
        for m, own in synced:
            if own is None:
                del m.forward
            else:
                m.forward = own
        for m, flag in zip(norms, tracked):
            m.track_running_stats = flag
        net.train(was_training)
