"""Cost of the Parzen-window protocol (Goodfellow et al. 2014, Table 1) at its full size.

10,000 "samples" x 784 dims, sigma chosen from numpy.logspace(-1, 0, 10) on 1,000
validation points, then 10,000 test points at the chosen sigma; float64 throughout.

Data: with ``--data fashion`` (the default when the files exist) real Fashion-MNIST
stands in for a generator: samples = training images 0..9,999, validation = training
images 50,000..50,999 (the split parzen_ll.py used for MNIST), test = the 10k test file.
Its log-likelihood is then a "training data as the model" reference figure. With
``--data random`` every set is uniform random uint8 pixels (the cost does not depend on
the values; the log-likelihood is meaningless).

    python benchmarks/parzen_speed.py                     # full size, all cores
    python benchmarks/parzen_speed.py --threads 1 --n-test 2000
    python benchmarks/parzen_speed.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

try:
    import lit_gan  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lit_gan.data.idx import read_idx_images
from lit_gan.metrics.parzen import SIGMAS, flatten_unit, parzen_log_likelihoods, select_sigma, summarize

FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
VAL_START = 50_000  # parzen_ll.py: MNIST('train', start=50000, stop=60000).X[:1000]


def proc_status_kib(field: str) -> int | None:
    """VmRSS / VmHWM from /proc/self/status in KiB (None where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def load(args) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, str]:
    use_fashion = args.data == "fashion" or (args.data == "auto" and (args.root / "t10k-images-idx3-ubyte.gz").exists())
    if use_fashion:
        train = read_idx_images(args.root / "train-images-idx3-ubyte.gz")
        test = read_idx_images(args.root / "t10k-images-idx3-ubyte.gz")
        if args.n_samples > VAL_START or VAL_START + args.n_val > len(train) or args.n_test > len(test):
            sys.exit(f"Fashion-MNIST has {len(train)} train / {len(test)} test images: "
                     f"need n_samples <= {VAL_START}, n_val <= {len(train) - VAL_START}, n_test <= {len(test)}")
        samples, val, test = train[: args.n_samples], train[VAL_START : VAL_START + args.n_val], test[: args.n_test]
        return flatten_unit(samples), flatten_unit(val), flatten_unit(test), f"fashion-mnist ({args.root})"
    g = torch.Generator().manual_seed(0)
    make = lambda n: flatten_unit(torch.randint(0, 256, (n, args.dim), dtype=torch.uint8, generator=g))  # noqa: E731
    return make(args.n_samples), make(args.n_val), make(args.n_test), f"random uint8, {args.dim} dims"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=10_000, help="Parzen samples (paper: 10,000)")
    p.add_argument("--n-val", type=int, default=1_000, help="validation points for sigma (paper: 1,000)")
    p.add_argument("--n-test", type=int, default=10_000, help="test points (paper: the full 10k test set)")
    p.add_argument("--dim", type=int, default=784, help="dimensions of random data (Fashion-MNIST: 784)")
    p.add_argument("--batch-size", type=int, default=500, help="points per distance block")
    p.add_argument("--data", choices=("auto", "fashion", "random"), default="auto")
    p.add_argument("--root", type=Path, default=FASHION, help="folder with the Fashion-MNIST .gz files")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: all cores)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--progress", action="store_true", help="tqdm bar over the test batches")
    args = p.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    if os.getloadavg()[0] > 0.5:
        print(f"warning: load average {os.getloadavg()[0]:.2f} at start; timings will be noisy", file=sys.stderr)

    samples, val, test, source = load(args)
    samples = samples.to(device)  # points stay on the CPU and move one batch at a time
    print(f"data: {source}; samples {tuple(samples.shape)}, val {tuple(val.shape)}, test {tuple(test.shape)}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    rss_before = proc_status_kib("VmRSS")
    peak_reset = reset_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    sync()
    t0 = time.perf_counter()
    sigma, val_means = select_sigma(samples, val, SIGMAS, args.batch_size)
    sync()
    t1 = time.perf_counter()
    test_ll = parzen_log_likelihoods(samples, test, [sigma], args.batch_size, progress=args.progress)[0]
    sync()
    t2 = time.perf_counter()
    mean, sem = summarize(test_ll)

    peak = proc_status_kib("VmHWM")
    out = {
        "data": source, "n_samples": args.n_samples, "n_val": len(val), "n_test": len(test),
        "dim": samples.shape[1], "batch_size": args.batch_size, "threads": torch.get_num_threads(),
        "device": str(device), "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
        "select_sigma_s": round(t1 - t0, 3), "test_eval_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3),
        "sigma": sigma, "mean_ll": round(mean, 3), "sem": round(sem, 3),
        "rss_before_mib": None if rss_before is None else round(rss_before / 1024, 1),
        # with the reset, VmHWM is the peak of the timed part; without it, of the whole process
        "peak_rss_mib": None if peak is None else round(peak / 1024, 1),
        "peak_rss_scope": "timed part" if peak_reset else "whole process",
    }
    if device.type == "cuda":
        out["cuda_peak_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    print(f"sigma selection ({len(SIGMAS)} sigmas x {len(val)} val points): {out['select_sigma_s']:.2f} s")
    print(f"test evaluation ({len(test)} points, 1 sigma): {out['test_eval_s']:.2f} s")
    print(f"log-likelihood {mean:.2f} +- {sem:.2f} at sigma {sigma:.4g}; "
          f"val means {[round(v, 1) for v in val_means.tolist()]}")
    print(f"RSS before {out['rss_before_mib']} MiB, peak {out['peak_rss_mib']} MiB ({out['peak_rss_scope']})")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
