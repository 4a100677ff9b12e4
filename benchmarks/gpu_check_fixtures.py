"""Tiny data and helpers that benchmarks/gpu_check.py writes into its work folder (no downloads).

The data and the feature extractor are lit_gan's own tiny fixtures (also what the tests use):
- MNIST: four gzipped IDX files (lit_gan.data.fixtures.write_tiny_mnist);
- paired (pix2pix): ``tiny_pairs/{train,val,test}/<i>.png``, A | B side by side (write_tiny_pairs);
- unpaired (CycleGAN): ``tiny_unpaired/{trainA,trainB,testA,testB}/<i>.png`` (write_tiny_unpaired);
- a feature extractor: a small fixed random classifier of (N, 1, 28, 28) images, saved as a
  lit_gan feature module (lit_gan.metrics.tiny_extractor), so FID / KID / accuracy run without
  Inception's weights.
Here only: a callbacks module for the fit subprocesses: ``SignalAt`` sends SIGTERM to its own
process after critic step ``SIGNAL_AT_BATCH`` (as tests/run_helpers.py), a deterministic mid-run stop.
"""

from __future__ import annotations

from pathlib import Path

from lit_gan.data.fixtures import write_tiny_mnist, write_tiny_pairs, write_tiny_unpaired
from lit_gan.metrics.tiny_extractor import write_tiny_extractor

MNIST_TRAIN, MNIST_TEST, MNIST_VAL = 160, 64, 32  # 128 training images: 8 batches of 16 an epoch

CALLBACKS = '''
import os, signal
import lightning as L


class SignalAt(L.Callback):
    """SIGTERM to this process after critic step SIGNAL_AT_BATCH (lit_gan saves, then exits 143);
    with several processes only rank SIGNAL_AT_RANK gets it (the others must follow)."""
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (pl_module.batches_seen == int(os.environ["SIGNAL_AT_BATCH"])
                and trainer.global_rank == int(os.environ.get("SIGNAL_AT_RANK", "0"))):
            os.kill(os.getpid(), signal.SIGTERM)
'''


def write_all(work: Path) -> dict[str, Path | str]:
    """Every fixture under ``work``; returns where they are."""
    data = work / "data"
    write_tiny_mnist(data / "mnist", MNIST_TRAIN, MNIST_TEST)
    (work / "gpu_check_callbacks.py").write_text(CALLBACKS)
    return {"mnist": data / "mnist", "images": data, "paired": write_tiny_pairs(data),
            "unpaired": write_tiny_unpaired(data),
            "extractor": write_tiny_extractor(work / "tiny_extractor.pt2", dataset="gpu_check tiny"),
            "callbacks": work, "reference_cache": work / "reference_cache"}
