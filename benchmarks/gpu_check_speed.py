"""Part (c) of benchmarks/gpu_check.py: training speed per precision and compile mode.

Full training iterations through ``lightning.Trainer`` (no logger, checkpointing or validation)
on synthetic images (speed does not depend on content), timed by a callback from the start of
batch ``warmup`` (compiles and recompiles happen before it) to the end of the last batch.
images/s = iterations/s x batch size. Peak GPU memory is ``torch.cuda.max_memory_allocated``
over the whole fit ("n/a" off CUDA).
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from lit_gan.models import DCGAN, CycleGAN, Pix2Pix


@dataclass(frozen=True)
class SpeedModel:
    name: str
    size: int
    batch_size: int
    build: object  # (compile: bool) -> LightningModule


def speed_models(quick: bool) -> dict[str, SpeedModel]:
    """The papers' sizes; ``quick``: 32 px and width 8 so a CPU gets through in seconds."""
    if quick:
        tiny, s = {"features": 8}, (3, 32, 32)
        return {m.name: m for m in (
            SpeedModel("dcgan64", 32, 16, lambda c: DCGAN(data_shape=s, generator_options=tiny,
                                                          discriminator_options=tiny, compile=c)),
            SpeedModel("pix2pix256", 32, 1, lambda c: Pix2Pix(data_shape=s, direction="AtoB", generator_options=tiny,
                                                              discriminator_options={**tiny, "n_layers": 1}, compile=c)),
            SpeedModel("cyclegan256", 32, 1, lambda c: CycleGAN(data_shape=s, generator_options={**tiny, "n_blocks": 1},
                                                                discriminator_options={**tiny, "n_layers": 1},
                                                                compile=c)),
        )}
    return {m.name: m for m in (
        # batch 64 as benchmarks/dcgan_speed.py (Radford et al. 2015 used 128)
        SpeedModel("dcgan64", 64, 64, lambda c: DCGAN(data_shape=(3, 64, 64), compile=c)),
        SpeedModel("pix2pix256", 256, 1, lambda c: Pix2Pix(data_shape=(3, 256, 256), direction="AtoB",
                                                           generator="unet_256", compile=c)),
        SpeedModel("cyclegan256", 256, 1, lambda c: CycleGAN(data_shape=(3, 256, 256), generator="resnet_9blocks",
                                                             compile=c)),
    )}


class Synthetic(Dataset):
    """``n`` items cycling over 8 fixed random images: (image, another image)."""

    def __init__(self, n: int, size: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.images, self.n = torch.rand(8, 3, size, size, generator=g) * 2 - 1, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.images[i % 8], self.images[(i + 3) % 8]


class Timer(L.Callback):
    def __init__(self, warmup: int, total: int, device: torch.device) -> None:
        self.warmup, self.total, self.device = warmup, total, device
        self.t0 = self.t1 = None

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            self._sync()
            self.t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx == self.total - 1:
            self._sync()
            self.t1 = time.perf_counter()


def measure(spec: SpeedModel, precision: str, compile: bool, accelerator: str, device: torch.device,
            iterations: int, warmup: int) -> dict:
    gc.collect()  # the previous case's model and optimizer states, before the peak is reset
    if compile:
        torch._dynamo.reset()  # fresh compile caches: no recompile limit carried over from the last case
    torch.manual_seed(0)  # this process's own stream: the same initial weights for every case
    model = spec.build(compile)
    total = warmup + iterations
    timer = Timer(warmup, total, device)
    loader = DataLoader(Synthetic(total * spec.batch_size, spec.size), batch_size=spec.batch_size)
    trainer = L.Trainer(accelerator=accelerator, devices=1, precision=precision, max_epochs=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=0, num_sanity_val_steps=0, callbacks=[timer])
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    trainer.fit(model, train_dataloaders=loader)
    if timer.t1 is None or timer.t0 is None:
        raise RuntimeError(f"the fit stopped before batch {total}")
    rate = iterations / (timer.t1 - timer.t0)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {"model": spec.name, "size": spec.size, "batch_size": spec.batch_size, "precision": precision,
            "compile": compile, "iterations_per_s": round(rate, 4), "images_per_s": round(rate * spec.batch_size, 3),
            "peak_gpu_mib": round(peak, 1) if peak is not None else "n/a"}


def with_ratios(rows: list[dict]) -> list[dict]:
    """Each row's speed as a ratio to the same model's 32-true eager row (None when not measured)."""
    base = {r["model"]: r["iterations_per_s"] for r in rows if r.get("precision") == "32-true" and not r["compile"]
            and "iterations_per_s" in r}
    for r in rows:
        b = base.get(r["model"])
        r["vs_fp32_eager"] = round(r["iterations_per_s"] / b, 3) if b and "iterations_per_s" in r else None
    return rows
