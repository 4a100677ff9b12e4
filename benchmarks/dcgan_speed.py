"""DCGAN-28 on Fashion-MNIST: generator iterations per second, lit_gan vs a plain loop.

Both ways do the same work per iteration (``AdversarialModel.training_step`` with
n_critic=1): one D update on a real batch vs G(z) made under no_grad from fresh z, then
one G update on fresh z, each with the other net's parameters frozen
(``requires_grad=False``, as Lightning's ``toggled_optimizer``), ``zero_grad(set_to_none=True)``,
Adam(2e-4, betas (0.5, 0.999)), the ``lit_gan.losses`` functions, the same nets and init
(same seed, same builders), and the same DataLoader from the same datamodule.

- ``lightning``: ``lightning.Trainer`` as a user runs it (CSVLogger, log_every_n_steps=50,
  no progress bar, no checkpointing, no validation), timed by a Callback from
  ``on_train_batch_start`` of batch ``warmup`` to ``on_train_batch_end`` of the last batch.
- ``plain``: a hand-written PyTorch loop, timed over the same batches; it reads the
  losses with ``.item()`` every 50 iterations, as a user's loop that prints them would.

Runs alternate (L P, P L, ...) to cancel drift; the medians give
``overhead % = (plain / lightning - 1) * 100`` (positive: Lightning is slower).

    python benchmarks/dcgan_speed.py                      # CPU, fp32, < 5 min on 2 cores
    python benchmarks/dcgan_speed.py --device cuda --precision bf16-mixed
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch import nn

try:
    import lit_gan  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import CSVLogger

from lit_gan.data import MNISTDataModule
from lit_gan.losses import adversarial
from lit_gan.models import DCGAN
from lit_gan.nets import build_discriminator, build_generator

DATA_SHAPE = (1, 28, 28)
LATENT_DIM = 100
LOG_EVERY = 50  # the CLI's default log_every_n_steps
# About 7.5 iterations/s on 2 idle CPU cores: 3 x 2 runs of 220 iterations take ~3.5 min.
DEFAULTS = {"cpu": {"warmup": 20, "iters": 200}, "cuda": {"warmup": 20, "iters": 200}}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def net_options(features: int) -> dict:
    return {"features": features}


# ---- lit_gan + Lightning -------------------------------------------------------------
class StepTimer(Callback):
    """Wall time from the start of batch ``warmup`` to the end of batch ``total - 1``."""

    def __init__(self, warmup: int, total: int, device: torch.device) -> None:
        self.warmup, self.total, self.device = warmup, total, device
        self.seen, self.t0, self.t1 = 0, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.seen == self.warmup:
            sync(self.device)
            self.t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.seen += 1
        if self.seen == self.total:
            sync(self.device)
            self.t1 = time.perf_counter()


def run_lightning(args, dm: MNISTDataModule, device: torch.device, log_dir: str) -> float:
    torch.manual_seed(args.seed)  # same init as the plain loop's nets
    opts = net_options(args.features)
    model = DCGAN(data_shape=DATA_SHAPE, latent_dim=LATENT_DIM, generator_options=opts, discriminator_options=opts)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    total = args.warmup + args.iters
    timer = StepTimer(args.warmup, total, device)
    logger = CSVLogger(log_dir, name="lightning") if args.logger == "csv" else False
    trainer = L.Trainer(
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        precision="32-true" if args.precision == "32" else args.precision,
        max_steps=model.max_steps_for(total),
        logger=logger,
        log_every_n_steps=LOG_EVERY,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        default_root_dir=log_dir,
        callbacks=[timer],
    )
    torch.manual_seed(args.seed)  # same data order and z stream as the plain loop
    trainer.fit(model, datamodule=dm)
    if timer.t1 is None:
        raise RuntimeError(f"Lightning stopped after {timer.seen} of {total} batches")
    args._last_models["lightning"] = model
    return args.iters / (timer.t1 - timer.t0)


# ---- plain PyTorch -------------------------------------------------------------------
@contextlib.contextmanager
def frozen(net: nn.Module):
    """requires_grad=False on ``net`` for the block, then restored (toggled_optimizer)."""
    saved = [(p, p.requires_grad) for p in net.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


def run_plain(args, dm: MNISTDataModule, device: torch.device) -> float:
    torch.manual_seed(args.seed)  # DCGAN.__init__ builds G then D from this same state
    opts = net_options(args.features)
    G = build_generator("dcgan", LATENT_DIM, DATA_SHAPE, dict(opts)).to(device).train()
    D = build_discriminator("dcgan", DATA_SHAPE, dict(opts)).to(device).train()
    if args.channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    amp = (
        torch.autocast(device.type, dtype=torch.bfloat16)
        if args.precision == "bf16-mixed"
        else contextlib.nullcontext()
    )
    total, done, t0, t1, history = args.warmup + args.iters, 0, None, None, []
    torch.manual_seed(args.seed)
    while done < total:
        for x, _ in dm.train_dataloader():
            x = x.to(device, non_blocking=True)
            if done == args.warmup:
                sync(device)
                t0 = time.perf_counter()
            with amp:  # Lightning's bf16-mixed wraps the whole training_step the same way
                with frozen(G):  # D step
                    with torch.no_grad():
                        fake = G(torch.randn(x.shape[0], LATENT_DIM, device=device))
                    real_logits, fake_logits = D(x), D(fake)
                    loss_d = adversarial.discriminator_loss(real_logits, fake_logits, 1.0)
                    d_real, d_fake = torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                with frozen(D):  # G step
                    fake = G(torch.randn(x.shape[0], LATENT_DIM, device=device))
                    loss_g = adversarial.generator_loss_non_saturating(D(fake))
                    opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                    opt_g.step()
            done += 1
            if done % LOG_EVERY == 0:
                history.append([t.item() for t in (loss_d, loss_g, d_real, d_fake)])
            if done == total:
                sync(device)
                t1 = time.perf_counter()
                break
    args._last_models["plain"] = (G, D)
    return args.iters / (t1 - t0)


# ---- driver --------------------------------------------------------------------------
def verify(args, dm, device) -> float:
    """Max |difference| of G's and D's weights after a few iterations both ways."""
    short = argparse.Namespace(**{**vars(args), "warmup": 1, "iters": 2, "_last_models": {}})
    with tempfile.TemporaryDirectory() as d:
        run_lightning(short, dm, device, d)
    run_plain(short, dm, device)
    model, (G, D) = short._last_models["lightning"], short._last_models["plain"]
    pairs = zip(
        list(model.generator.parameters()) + list(model.discriminator.parameters()),
        list(G.parameters()) + list(D.parameters()),
    )
    return max((a.detach() - b.detach()).abs().max().item() for a, b in pairs)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default="/usr/share/datasets/fashion-mnist",
                   help="folder with Fashion-MNIST's four IDX files (raw or .gz), or torchvision's layout")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--precision", choices=("32", "bf16-mixed"), default="32")
    p.add_argument("--channels-last", action="store_true", help="nets in channels_last memory format")
    p.add_argument("--iters", type=int, default=None, help="timed generator iterations per run (default 200)")
    p.add_argument("--warmup", type=int, default=None, help="untimed iterations first (default 20)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each way, alternating")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--features", type=int, default=64, help="DCGAN width (64 = the paper's)")
    p.add_argument("--logger", choices=("csv", "none"), default="csv", help="Lightning's logger (csv = the CLI default)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads for both ways (default: torch's, all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verify", action="store_true",
                   help="first check that both ways give the same weights after 3 iterations (fp32)")
    args = p.parse_args(argv)
    for name in ("iters", "warmup"):
        if getattr(args, name) is None:
            setattr(args, name, DEFAULTS[args.device][name])
    if args.iters < 1 or args.warmup < 0 or args.repeats < 1 or args.batch_size < 1 or (args.threads or 1) < 1:
        p.error("--iters, --repeats, --batch-size and --threads must be >= 1 and --warmup >= 0")
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA device is visible to torch; use --device cpu")
    args._last_models = {}
    return args


def load_data(args) -> MNISTDataModule:
    dm = MNISTDataModule(root=args.root, variant="fashion", batch_size=args.batch_size)
    try:
        dm.setup("fit")  # once; Lightning's later setup() calls reuse the loaded tensors
    except FileNotFoundError as e:
        sys.exit(f"dcgan_speed: Fashion-MNIST not found under --root {args.root}.\n{e}\n"
                 "For this script pass --root DIR with the four files (raw or .gz).")
    return dm


def main(argv=None) -> dict:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*bf16.*")
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.precision == "bf16-mixed" and device.type == "cpu":
        print("note: bf16-mixed on CPU is measured but not meaningful (made for GPUs)", file=sys.stderr)
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"warning: load average {load_before:.1f} on {os.cpu_count()} cores before starting; "
              "other processes will make these numbers noisy", file=sys.stderr)
    dm = load_data(args)
    if args.verify:
        diff = verify(args, dm, device)
        print(f"verify: max |weight difference| after 3 iterations = {diff:.3g}")
    rates: dict[str, list[float]] = {"lightning": [], "plain": []}
    print(f"{'run':>3}  {'way':<9}  {'it/s':>9}")
    with tempfile.TemporaryDirectory() as log_dir:
        for r in range(args.repeats):
            order = ("lightning", "plain") if r % 2 == 0 else ("plain", "lightning")
            for way in order:
                rate = run_lightning(args, dm, device, log_dir) if way == "lightning" else run_plain(args, dm, device)
                rates[way].append(rate)
                print(f"{r + 1:>3}  {way:<9}  {rate:9.3f}", flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    overhead = (med["plain"] / med["lightning"] - 1) * 100
    spread = {k: (max(v) - min(v)) / med[k] * 100 for k, v in rates.items()}
    print(f"median    lightning {med['lightning']:.3f} it/s (spread {spread['lightning']:.1f}%), "
          f"plain {med['plain']:.3f} it/s (spread {spread['plain']:.1f}%)")
    print(f"overhead  {overhead:+.2f}%  (plain / lightning - 1; positive = Lightning slower)")
    result = {
        "benchmark": "dcgan_speed", "model": "DCGAN-28", "data": "fashion-mnist",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "precision": args.precision, "channels_last": args.channels_last, "batch_size": args.batch_size,
        "features": args.features, "logger": args.logger, "warmup": args.warmup, "iters": args.iters,
        "repeats": args.repeats, "threads": torch.get_num_threads(),
        "loadavg_1m_before": round(load_before, 2),
        "torch": torch.__version__, "lightning": L.__version__,
        "lightning_its": [round(x, 4) for x in rates["lightning"]], "plain_its": [round(x, 4) for x in rates["plain"]],
        "lightning_median_its": round(med["lightning"], 4), "plain_median_its": round(med["plain"], 4),
        "overhead_pct": round(overhead, 2) if math.isfinite(overhead) else None,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
