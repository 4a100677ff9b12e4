"""``python -m lit_gan generate``: draw samples from a trained checkpoint.

Output: ``OUT.npz`` with one array ``samples`` (uint8 N x H x W x C for images, float32
N x 2 for 2-D data), or a folder of PNG files ``000000.png, 000001.png, ...``.

Same ``--seed``, same samples, whatever ``--batch-size`` or device: z is drawn on the
CPU in fixed chunks from one seeded generator; the batch size only splits G's work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lit_gan.atomic import atomic_path
from lit_gan.commands.checkpoint import CommandError, load_model, resolve_device
from lit_gan.models.sampling import NOISE_CHUNK  # z chunks: the same samples as evaluate / metric callbacks



def to_uint8_images(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] (N, C, H, W) -> uint8 (N, H, W, C): clamp, then round (never wrap)."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def iter_samples(model, num: int, seed: int, batch_size: int, progress: bool = True):
    """Yield sample batches (on CPU) totalling ``num``."""
    if not (hasattr(model, "noise") and hasattr(model, "generate")):
        raise CommandError(f"{type(model).__name__} checkpoints cannot sample from noise (use `translate` for image-to-image models)")
    generator = torch.Generator().manual_seed(seed)
    with tqdm(total=num, desc="generating", unit="sample", file=sys.stderr, disable=not progress) as bar:
        for start in range(0, num, NOISE_CHUNK):
            z = model.noise(min(NOISE_CHUNK, num - start), generator=generator)
            for part in z.split(batch_size):
                yield model.generate(part).cpu()
                bar.update(part.shape[0])


def generate(ckpt: str, num: int, out: str, seed: int = 0, batch_size: int = 256, device: str | None = None,
             overwrite: bool = False, progress: bool = True) -> Path:
    if num <= 0:
        raise CommandError(f"--num must be positive, got {num}")
    if batch_size <= 0:
        raise CommandError(f"--batch-size must be positive, got {batch_size}")
    out_path = Path(out)
    to_npz = out_path.suffix.lower() == ".npz"
    if not to_npz and out_path.exists() and not out_path.is_dir():
        raise CommandError(f"{out_path} is a file; --out must end in .npz or name a folder for PNG files")
    if not overwrite and out_path.exists() and (to_npz or any(out_path.iterdir())):
        raise CommandError(f"{out_path} already exists; choose another --out or pass --overwrite")
    model = load_model(ckpt, resolve_device(device))
    if not to_npz and len(model.data_shape) != 3:
        raise CommandError("2-D samples cannot be written as PNG files; use an --out ending in .npz")
    batches = iter_samples(model, num, seed, batch_size, progress)
    if to_npz:
        parts = [b.float().numpy() if b.dim() == 2 else to_uint8_images(b) for b in batches]
        with atomic_path(out_path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, samples=np.concatenate(parts))
        return out_path
    from PIL import Image

    out_path.mkdir(parents=True, exist_ok=True)
    index = 0
    for batch in batches:
        for image in to_uint8_images(batch):
            with atomic_path(out_path / f"{index:06d}.png") as tmp:
                Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(tmp, format="PNG")
            index += 1
    return out_path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="checkpoint written by `fit` (e.g. runs/<name>/version_0/checkpoints/last.ckpt)")
    p.add_argument("--num", type=int, required=True, help="number of samples")
    p.add_argument("--out", required=True, help="OUT.npz, or a folder for PNG files")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--batch-size", type=int, default=256, help="samples per generator forward pass")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, or auto (default)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        path = generate(args.ckpt, args.num, args.out, args.seed, args.batch_size, args.device, args.overwrite, not args.no_progress)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.num} samples to {path}", file=sys.stderr)
    return 0
