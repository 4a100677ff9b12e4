"""Images/s of CelebADataModule's two read paths: JPEGs decoded per item vs the prepared memmap.

Makes (or reuses) a synthetic CelebA in torchvision's layout: N 178x218 JPEGs of smooth
random content (a random 10x12 colour grid, bicubic-upsampled, plus pixel noise; quality
90), so each file is a few KB like the real ones (real img_align_celeba: 1.34 GB zip /
202,599 images, about 6.6 KB each), and a list_eval_partition.txt with the official
proportions. Then, for each path, it iterates the training DataLoader as Lightning would
(`--workers` worker processes, batch `--batch-size`, shuffled, persistent workers) for
`--epochs` epochs and reports images/s per epoch, excluding each epoch's first batch (worker
start-up and the first decodes); the prepared path also with no workers (in the main
process). It also times the one-time preparation (all splits,
`prepare_workers` = `--workers`), and checks that both paths give identical tensors.

Nothing consumes the batches: this is the loader's ceiling, the rate at which a GPU could
be fed. Measure on an otherwise idle machine (the load average is printed).

    python benchmarks/celeba_loading.py                          # 5,000 images in $TMPDIR
    python benchmarks/celeba_loading.py --n 20000 --dir /data/celeba_synth --workers 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

try:
    import lit_gan  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lit_gan.data.celeba import OFFICIAL_SIZES, OFFICIAL_TOTAL, CelebADataModule


def synthetic_celeba(root: Path, n: int, seed: int = 0) -> float:
    """Write (or reuse) n JPEGs + partition file in torchvision's layout; returns mean file KB."""
    folder, part = root / "celeba" / "img_align_celeba", root / "celeba" / "list_eval_partition.txt"
    names = [f"{i:06d}.jpg" for i in range(1, n + 1)]
    if not (part.is_file() and len(part.read_text().splitlines()) == n and all((folder / m).is_file() for m in names)):
        shutil.rmtree(root / "celeba", ignore_errors=True)
        folder.mkdir(parents=True)
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        for name in names:
            grid = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)).resize((178, 218), Image.BICUBIC)
            pixels = np.asarray(grid, dtype=np.int16) + rng.normal(0, 4, (218, 178, 3)).astype(np.int16)
            Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(folder / name, quality=90)
        n_train = round(n * OFFICIAL_SIZES[0] / OFFICIAL_TOTAL)
        n_val = round(n * OFFICIAL_SIZES[1] / OFFICIAL_TOTAL)
        codes = [0] * n_train + [1] * n_val + [2] * (n - n_train - n_val)
        part.write_text("".join(f"{m} {c}\n" for m, c in zip(names, codes)))
        print(f"wrote {n} JPEGs to {folder} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    else:
        print(f"reusing {n} JPEGs in {folder}", file=sys.stderr)
    return sum((folder / m).stat().st_size for m in names) / n / 1024


def epoch_rates(dm: CelebADataModule, epochs: int) -> list[float]:
    """Images/s of each epoch over the training loader, each epoch's first batch excluded."""
    loader, rates = dm.train_dataloader(), []
    for _ in range(epochs):
        it, images = iter(loader), 0
        next(it)
        t0 = time.perf_counter()
        for x, _ in it:
            images += len(x)
        rates.append(images / (time.perf_counter() - t0))
    del it, loader  # shut the persistent workers down before the next path starts
    return rates


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=5000, help="synthetic images (default 5000)")
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "lit_gan_celeba_bench")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--crop", type=int, default=108)
    p.add_argument("--image-size", type=int, default=64)
    args = p.parse_args()

    load = os.getloadavg()
    if load[0] > 0.5:
        print(f"warning: load average {load[0]:.2f}: other jobs share the CPUs, figures will be low", file=sys.stderr)
    kb = synthetic_celeba(args.dir, args.n)
    torch.set_num_threads(1)
    common = dict(root=str(args.dir), crop=args.crop, image_size=args.image_size,
                  batch_size=args.batch_size, num_workers=args.workers)

    jpeg = CelebADataModule(**common)
    jpeg.setup()
    jpeg_rates = epoch_rates(jpeg, args.epochs)

    prepared_dir = args.dir / "prepared"
    shutil.rmtree(prepared_dir, ignore_errors=True)  # time the one-time preparation from scratch
    prep = CelebADataModule(**common, prepared=True, prepared_dir=str(prepared_dir), prepare_workers=args.workers)
    t0 = time.perf_counter()
    prep.prepare_data()
    prepare_s = time.perf_counter() - t0
    prep.setup()
    prep_rates = epoch_rates(prep, args.epochs)
    main_only = CelebADataModule(**{**common, "num_workers": 0}, prepared=True, prepared_dir=str(prepared_dir))
    main_only.setup()  # reuses the arrays just made
    main_rates = epoch_rates(main_only, args.epochs)

    same = all(torch.equal(jpeg.val_set[i][0], prep.val_set[i][0]) for i in range(min(64, len(jpeg.val_set))))
    mb = sum(f.stat().st_size for f in prepared_dir.iterdir()) / 2**20
    jpeg_med, prep_med = statistics.median(jpeg_rates), statistics.median(prep_rates)

    print(f"\n{args.n} synthetic 178x218 JPEGs ({kb:.1f} KB each), crop {args.crop} -> {args.image_size}px, "
          f"train split {len(jpeg.train_set)} images, {args.workers} workers, batch {args.batch_size}, "
          f"{os.cpu_count()} CPUs, load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"| path | images/s (median of {args.epochs} epochs) | epochs |")
    print("|---|---|---|")
    print(f"| JPEG decode per item | {jpeg_med:,.0f} | {', '.join(f'{r:,.0f}' for r in jpeg_rates)} |")
    print(f"| prepared memmap | {prep_med:,.0f} | {', '.join(f'{r:,.0f}' for r in prep_rates)} |")
    print(f"| prepared memmap, 0 workers (main process) | {statistics.median(main_rates):,.0f} | "
          f"{', '.join(f'{r:,.0f}' for r in main_rates)} |")
    print(f"one-time preparation: {prepare_s:.1f} s for {args.n} images ({args.n / prepare_s:,.0f} images/s), "
          f"{mb:.1f} MiB on disk; speed-up {prep_med / jpeg_med:.1f}x; identical tensors: {same}")
    print(json.dumps({"n": args.n, "workers": args.workers, "batch_size": args.batch_size, "crop": args.crop,
                      "image_size": args.image_size, "jpeg_kb": round(kb, 2),
                      "jpeg_images_per_s": round(jpeg_med, 1), "prepared_images_per_s": round(prep_med, 1),
                      "prepared_0_workers_images_per_s": round(statistics.median(main_rates), 1),
                      "prepare_s": round(prepare_s, 2), "prepared_mib": round(mb, 2), "identical": same,
                      "loadavg": [round(v, 2) for v in load]}))


if __name__ == "__main__":
    main()
