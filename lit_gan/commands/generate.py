"""``python -m lit_gan generate``: draw samples from a trained checkpoint.

Output: ``OUT.npz`` with an array ``samples`` (uint8 N x H x W x C for images, float32
N x 2 for 2-D data), plus with ``--keep-float`` an array ``samples_float`` (float32
N x H x W x C in [-1, 1], G's values before rounding, which `evaluate` uses for Parzen);
or a folder of PNG files ``000000.png, 000001.png, ...`` (``--overwrite`` first removes the
folder's earlier PNGs of that pattern, and nothing else).

Class-conditional checkpoints: sample i is made for label y_i, by default the classes
cycled (0, 1, ..., K-1, 0, ...); ``--labels 0,3,7`` cycles those instead; ``--per-class K``
makes K of every class in class order (K x classes samples, so no ``--num``). The .npz
then also holds ``labels`` (int64, N) and ``num_classes``; PNG files are named
``000000_y3.png`` (sample 0, label 3).

Same ``--seed``, same samples, whatever ``--batch-size`` or device: z is drawn on the
CPU in fixed chunks from one seeded generator; the batch size only splits G's work. A
model with ``sample_mode: batch_stats`` runs G on groups of its ``sample_batch_size``
consecutive samples instead (BatchNorm uses each group's statistics), whatever
``--batch-size`` says.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lit_gan.atomic import atomic_path
from lit_gan.commands.options import add_output_options
from lit_gan.conversion import to_uint8
from lit_gan.evaluation.averaged import USE_EMA_HELP, choose_generator, parse_use_ema
from lit_gan.evaluation.checkpoints import CommandError, load_model, resolve_device
from lit_gan.evaluation.sampling import LabelError, LabelPlan, is_sampler, label_plan, sample_rows

PNG_NAME = re.compile(r"\d{6,}(_y\d+)?\.png")  # what a PNG-folder run writes: 000000.png or 000000_y3.png


def to_uint8_images(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] (N, C, H, W) -> uint8 (N, H, W, C): clamp, then round (never wrap)."""
    return to_uint8(images).permute(0, 2, 3, 1).cpu().numpy()


def iter_samples(model, num: int, seed: int, batch_size: int, progress: bool = True, plan: LabelPlan | None = None):
    """Yield sample batches (on CPU) totalling ``num``."""
    if not is_sampler(model):
        raise CommandError(f"{type(model).__name__} checkpoints cannot sample from noise (use `translate` for image-to-image models)")
    with tqdm(total=num, desc="generating", unit="sample", file=sys.stderr, disable=not progress) as bar:
        for batch in sample_rows(model, num, seed, range(num), batch_size, plan):
            yield batch
            bar.update(batch.shape[0])


def parse_labels(text: str | None) -> list[int] | None:
    """"0,3,7" -> [0, 3, 7]."""
    if text is None:
        return None
    try:
        labels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--labels {text}: give class indices separated by commas, e.g. --labels 0,3,7") from None
    if not labels:
        raise CommandError("--labels is empty; give class indices, e.g. --labels 0,3,7")
    return labels


def remove_earlier_pngs(folder: Path) -> None:
    """Delete the numbered PNGs an earlier run wrote, so none outlives a shorter new run;
    any other file in the folder is not ours and stays."""
    for path in folder.iterdir():
        if PNG_NAME.fullmatch(path.name) and path.is_file():
            path.unlink()


def generate(ckpt: str, num: int | None, out: str, seed: int = 0, batch_size: int = 256, device: str | None = None,
             overwrite: bool = False, progress: bool = True, keep_float: bool = False,
             labels: list[int] | None = None, per_class: int | None = None,
             use_ema: bool | None = None) -> tuple[Path, int]:
    """Write the samples; (where, how many)."""
    if per_class is not None and num is not None:
        raise CommandError("--per-class K makes K samples of every class: leave out --num")
    if per_class is None and num is None:
        raise CommandError("give --num N (or --per-class K for a class-conditional checkpoint)")
    if num is not None and num <= 0:
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
    choose_generator(model, use_ema, ckpt)  # the run's EMA of G when it kept one (lit_gan.evaluation.averaged)
    try:
        plan = label_plan(model, labels, per_class)
    except LabelError as err:
        raise CommandError(str(err)) from None
    if plan is not None and plan.total is not None:
        num = plan.total
    if not to_npz and len(model.data_shape) != 3:
        raise CommandError("2-D samples cannot be written as PNG files; use an --out ending in .npz")
    batches = iter_samples(model, num, seed, batch_size, progress, plan)
    sample_labels = plan.labels(range(num)).numpy() if plan is not None else None
    if to_npz:
        parts, floats = [], []
        for b in batches:
            parts.append(b.float().numpy() if b.dim() == 2 else to_uint8_images(b))
            if b.dim() == 4 and keep_float:  # 2-D points are float already
                floats.append(b.float().permute(0, 2, 3, 1).numpy())
        arrays = {"samples": np.concatenate(parts)}
        if floats:
            arrays["samples_float"] = np.concatenate(floats)
        if sample_labels is not None:
            arrays["labels"], arrays["num_classes"] = sample_labels.astype(np.int64), np.int64(plan.num_classes)
        with atomic_path(out_path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
        return out_path, num
    from PIL import Image

    out_path.mkdir(parents=True, exist_ok=True)
    remove_earlier_pngs(out_path)
    index = 0
    for batch in batches:
        for image in to_uint8_images(batch):
            name = f"{index:06d}.png" if sample_labels is None else f"{index:06d}_y{sample_labels[index]}.png"
            with atomic_path(out_path / name) as tmp:
                Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(tmp, format="PNG")
            index += 1
    return out_path, num


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan generate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="checkpoint written by `fit` (e.g. runs/<name>/version_0/checkpoints/last.ckpt)")
    p.add_argument("--num", type=int, default=None, help="number of samples")
    p.add_argument("--labels", default=None, help="class-conditional checkpoints: labels to cycle, e.g. 0,3,7 "
                   "(default: all classes cycled)")
    p.add_argument("--per-class", type=int, default=None, help="class-conditional checkpoints: K samples of every "
                   "class, in class order (instead of --num)")
    p.add_argument("--out", required=True, help="OUT.npz, or a folder for PNG files")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--batch-size", type=int, default=256, help="samples per generator forward pass")
    p.add_argument("--use-ema", type=parse_use_ema, default=None, metavar="{true,false}", help=USE_EMA_HELP)
    p.add_argument("--keep-float", action="store_true",
                   help="images in .npz: also store samples_float (float32, [-1, 1], before rounding) for Parzen")
    add_output_options(p, "replace an existing OUT (a PNG folder loses its earlier NNNNNN.png files, nothing else)")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        path, num = generate(args.ckpt, args.num, args.out, args.seed, args.batch_size, args.device, args.overwrite,
                        not args.no_progress, args.keep_float, parse_labels(args.labels), args.per_class, args.use_ema)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {num} samples to {path}", file=sys.stderr)
    return 0
