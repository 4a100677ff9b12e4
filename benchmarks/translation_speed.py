"""pix2pix and CycleGAN at the papers' size (256x256, batch 1): iterations/s and peak memory.

Synthetic images (the speed does not depend on content), the papers' nets (unet_256 +
70x70 PatchGAN; resnet_9blocks x2 + 2 PatchGANs), one full training iteration each through
``lightning.Trainer`` (no logger, checkpointing or validation), timed after ``--warmup``.

    python benchmarks/translation_speed.py                          # CPU, fp32
    python benchmarks/translation_speed.py --device cuda --precision bf16-mixed --steps 200
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from lit_gan.models.cyclegan import CycleGAN
from lit_gan.models.pix2pix import Pix2Pix


class Synthetic(Dataset):
    def __init__(self, n: int, size: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.images = torch.rand(4, 3, size, size, generator=g) * 2 - 1
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.images[i % 4], self.images[(i + 1) % 4]


class Timer(L.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.steps = warmup, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx >= self.warmup:
            self.steps += 1

    def rate(self) -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return self.steps / (time.perf_counter() - self.start)


def measure(name: str, model: L.LightningModule, args) -> dict:
    timer = Timer(args.warmup)
    loader = DataLoader(Synthetic(args.warmup + args.steps, args.size), batch_size=1)
    trainer = L.Trainer(accelerator="gpu" if args.device == "cuda" else "cpu", devices=1, precision=args.precision,
                        max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[timer])
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(model, train_dataloaders=loader)
    result = {"model": name, "iterations_per_s": round(timer.rate(), 3), "size": args.size,
              "device": args.device, "precision": args.precision, "threads": torch.get_num_threads(),
              "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}
    if torch.cuda.is_available():
        result["peak_gpu_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["pix2pix", "cyclegan"])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="32-true")
    args = p.parse_args()
    shape = (3, args.size, args.size)
    builders = {
        "pix2pix": lambda: Pix2Pix(data_shape=shape, direction="AtoB", generator="unet_256" if args.size == 256 else "unet"),
        "cyclegan": lambda: CycleGAN(data_shape=shape, generator="resnet_9blocks" if args.size == 256 else "resnet"),
    }
    for name in args.models:
        torch.manual_seed(0)
        print(json.dumps(measure(name, builders[name](), args)), flush=True)


if __name__ == "__main__":
    main()
