"""``python -m lit_gan translate``: run an image-to-image checkpoint over images.

    python -m lit_gan translate --ckpt runs/pix2pix/version_0/checkpoints/last.ckpt \\
        --input data/facades/test --out translated/
    python -m lit_gan translate --ckpt CYCLEGAN.ckpt --input photo.jpg --out out/ --direction BtoA

Writes one PNG per input with the same file name (``x.jpg`` -> ``OUT/x.png``). Inputs may
be plain images or pix2pix's paired files (A | B side by side, twice as wide as high):
of a paired file only the input half is used (A for AtoB, B for BtoA). Images are resized
to the size the model was trained at. ``--direction`` defaults to the model's own
(pix2pix trains one direction; CycleGAN has both).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from lit_gan.atomic import atomic_path
from lit_gan.commands.options import add_output_options
from lit_gan.conversion import to_uint8
from lit_gan.data.image_folders import Jitter
from lit_gan.evaluation.averaged import USE_EMA_HELP, choose_generator, parse_use_ema
from lit_gan.evaluation.checkpoints import CommandError, load_model, resolve_device

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def list_inputs(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise CommandError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {source}")
        return files
    raise CommandError(f"--input {source}: no such file or folder")


def load_input(path: Path, direction: str, size: tuple[int, int]) -> torch.Tensor:
    """(1, 3, H, W) in [-1, 1]: the input half of a paired file, or the whole image, resized
    exactly as the datamodules resize test images (so `translate` and `evaluate` agree)."""
    try:
        image = Image.open(path).convert("RGB")
    except OSError as err:
        raise CommandError(f"{path}: not a readable image ({err})") from None
    width, height = image.size
    if width == 2 * height:  # pix2pix's A | B layout
        half = width // 2
        image = image.crop((0, 0, half, height) if direction == "AtoB" else (half, 0, width, height))
    if size[0] != size[1]:
        raise CommandError(f"the model works on {size[0]}x{size[1]} images; translate handles square ones only")
    return Jitter(size[0], size[0], flip=False, train=False)(image, (0, 0, False)).unsqueeze(0)


def translate(ckpt: str, source: str, out: str, direction: str | None = None, device: str | None = None,
              overwrite: bool = False, progress: bool = True, use_ema: bool | None = None) -> list[Path]:
    model = load_model(ckpt, resolve_device(device))
    choose_generator(model, use_ema, ckpt)  # the run's EMA of G when it kept one (lit_gan.evaluation.averaged)
    if not hasattr(model, "translate"):
        raise CommandError(f"{type(model).__name__} checkpoints do not translate images; use `generate` for them")
    direction = direction or getattr(model, "default_direction", "AtoB")
    if direction not in getattr(model, "directions", ("AtoB", "BtoA")):
        raise CommandError(f"--direction {direction}: this model translates {' or '.join(model.directions)}")
    inputs = list_inputs(Path(source))
    out_dir = Path(out)
    targets = [out_dir / f"{p.stem}.png" for p in inputs]
    clashes = [t for t in targets if t.exists()]
    if clashes and not overwrite:
        raise CommandError(f"{clashes[0]} already exists ({len(clashes)} outputs would be replaced); "
                           "choose another --out or pass --overwrite")
    out_dir.mkdir(parents=True, exist_ok=True)
    size = tuple(model.data_shape[-2:])
    for path, target in tqdm(list(zip(inputs, targets)), desc="translating", unit="img", file=sys.stderr,
                             disable=not progress):
        with torch.no_grad():
            y = model.translate(load_input(path, direction, size).to(model.device), direction)
        array = to_uint8(y[0].cpu()).permute(1, 2, 0).numpy()
        with atomic_path(target) as tmp:
            Image.fromarray(array).save(tmp, format="PNG")
    return targets


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan translate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="a pix2pix or CycleGAN checkpoint written by `fit`")
    p.add_argument("--input", required=True, help="an image, or a folder of images")
    p.add_argument("--out", required=True, help="folder for the PNG outputs")
    p.add_argument("--direction", choices=["AtoB", "BtoA"], default=None, help="default: the model's")
    p.add_argument("--use-ema", type=parse_use_ema, default=None, metavar="{true,false}", help=USE_EMA_HELP)
    add_output_options(p, "replace existing outputs")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        written = translate(args.ckpt, args.input, args.out, args.direction, args.device, args.overwrite,
                            not args.no_progress, args.use_ema)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} images to {args.out}", file=sys.stderr)
    return 0
