"""Class-conditional models on real Fashion-MNIST: generator iterations per second and
whether training stays finite, per model and precision (the GPU paths: bf16-mixed with
spectral norm, conditional BatchNorm and the projection inner product), then the
classifier accuracy of 10,000 samples (1,000 per class) when an extractor is given.

    python benchmarks/conditional_check.py --iters 300                  # CPU, fp32
    python benchmarks/conditional_check.py --iters 1000 --precision 32-true bf16-mixed \\
        --extractor extractors/fashion_mnist_classifier.pt2             # a GPU box

Prints one JSON object per (model, precision); ``s_per_iteration`` is timed from the
batch after ``--warmup`` to the last one (Lightning Trainer as a user runs it, no logger).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import lightning as L
import torch

from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.sampling import LabelPlan, sample_rows
from lit_gan.models import ACGAN, DCGAN, ConditionalDCGAN, ProjectionGAN
from lit_gan.training.divergence import first_non_finite_tensor

MODELS = {
    "dcgan": lambda: DCGAN(data_shape=(1, 28, 28)),
    "cdcgan": lambda: ConditionalDCGAN(num_classes=10, data_shape=(1, 28, 28)),
    "acgan": lambda: ACGAN(num_classes=10, data_shape=(1, 28, 28)),
    "projection": lambda: ProjectionGAN(num_classes=10, data_shape=(1, 28, 28)),
}


class Timer(L.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.stop, self.iterations = warmup, None, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if pl_module.iterations == self.warmup and self.start is None:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.start, self.first = time.perf_counter(), pl_module.iterations

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.stop, self.iterations = time.perf_counter(), pl_module.iterations


def accuracy(model, extractor_path: str, per_class: int = 1000) -> float:
    from lit_gan.conversion import to_uint8
    from lit_gan.metrics.extractors import load_extractor

    extractor = load_extractor(extractor_path, model.device)
    plan = LabelPlan(10, per_class=per_class)
    n = plan.total
    correct = 0
    start = 0
    for batch in sample_rows(model, n, 0, range(n), 500, plan):
        logits = extractor(to_uint8(batch)).logits.cpu()  # features stay on the extractor's device
        correct += int((logits.argmax(1) == plan.labels(range(start, start + len(batch)))).sum())
        start += len(batch)
    return correct / n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default="/usr/share/datasets/fashion-mnist", help="folder with Fashion-MNIST's IDX .gz files")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--precision", nargs="+", default=["32-true"])
    p.add_argument("--iters", type=int, default=300, help="generator iterations per run")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--extractor", default=None, help="classifier feature module: also report accuracy")
    args = p.parse_args()
    for name in args.models:
        for precision in args.precision:
            L.seed_everything(0, verbose=False)
            model = MODELS[name]()
            data = MNISTDataModule(root="/tmp/lit_gan_fm", variant="fashion", also_look_in=[args.root], download=False,
                                   batch_size=args.batch_size, num_workers=2)
            timer = Timer(args.warmup)
            trainer = L.Trainer(accelerator="auto", devices=1, precision=precision,
                                max_steps=model.max_steps_for(args.iters), limit_val_batches=0, logger=False,
                                enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                                callbacks=[timer])
            trainer.fit(model, datamodule=data)
            done = timer.iterations - timer.first if timer.start is not None else 0
            row = {"model": name, "precision": precision, "device": str(model.device),
                   "iterations": model.iterations, "n_critic": model.n_critic,
                   "s_per_iteration": round((timer.stop - timer.start) / max(done, 1), 5) if done else None,
                   "non_finite_weight": first_non_finite_tensor(model.state_dict())}
            if args.extractor and model.num_classes:
                try:
                    row["accuracy_10k"] = round(accuracy(model.eval(), args.extractor), 4)
                except Exception as err:  # e.g. a .pt2 saved by another torch version
                    row["accuracy_10k"] = f"not measured: {type(err).__name__}: {err}"[:200]
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
