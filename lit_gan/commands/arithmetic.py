"""``python -m lit_gan arithmetic``: latent vector arithmetic, Radford et al. 2015, sec. 6.3, Fig. 7.

    python -m lit_gan arithmetic --ckpt CKPT --expr "3,17,42 - 5,9,11 + 8,21,30" --seed 0 --out fig.png
    python -m lit_gan arithmetic --ckpt CKPT --expr "sandal - sneaker + ankle boot" \\
        --feature-extractor extractors/fashion_mnist_classifier.pt2 --seed 0 --out fig.png
    python -m lit_gan arithmetic --ckpt CELEBA.ckpt --feature-extractor ATTRIBUTES.pt2 --out fig.png \\
        --expr "Eyeglasses & Male - Male & not Eyeglasses + not Male & not Eyeglasses"

The expression: groups joined by + and - with spaces around them (names such as T-shirt/top
contain '-'). A group is
  - sample indices of the seed, "3,17,42": sample 17 is the file 000017.png (row 17 of the
    .npz) of `generate --seed S` (the same z at any --num; with a batch_stats model also
    the same BatchNorm group when --num is a multiple of its sample_batch_size);
  - a class of the --feature-extractor classifier, by name (any case: "ankle boot",
    "t-shirt/top") or by index ("#9"): the --per-group K samples of the first --search N
    samples of seed S that the classifier predicts as that class with the highest softmax
    probability (best first; ties: lower index);
  - for a multi-label attribute classifier (meta multilabel: true, attribute_names), a
    conjunction "Eyeglasses & not Male": the K samples meeting every term (logit > 0,
    with 'not' < 0) whose weakest term is the most certain.
Index groups must be below N (--search, default 2000): the pool is samples 0..N-1.

Each group stands for the mean of its members' z; the result is the signed sum of the means
(u - v + w). FIG.png: one row per group (members, then the mean z's image) and the 3 x 3
neighbourhood: the result in the centre, the 8 others with uniform noise of +-0.25 added
(Fig. 7's caption; --noise-scale). FIG.npz (or --npz) holds the indices, z's, means, result,
neighbourhood, images, expression, seed and label. With a classifier the 3 x 3 is also
classified and the verdict printed.

All images of the figure are decoded by G in one batch. A model with `sample_mode:
batch_stats` (BatchNorm on the batch's statistics, so one vector alone means nothing)
decodes them in one batch of its sample_batch_size filled up with the seed's samples 0, 1,
...; members then differ slightly from generate's images. With `sample_mode: eval` they equal
generate's. Class-conditional models: z arithmetic at one --label (index or class name); the
pool is `generate --labels L` then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lit_gan.arithmetic.expression import PAPER_NOISE_SCALE, PAPER_PER_GROUP
from lit_gan.commands.options import add_output_options
from lit_gan.errors import UserError
from lit_gan.evaluation.checkpoints import CommandError, checkpoint_datamodule, instantiate, load_model, resolve_device
from lit_gan.metrics.feature_module import FeatureModuleError


def class_names_of(ckpt: str) -> list[str] | None:
    """The run's class names (for --label NAME), or None when its checkpoint records no
    datamodule (older ones) or the datamodule names no classes: indices still work then.
    Anything else that goes wrong building the datamodule is raised, not taken for "no names"."""
    spec = checkpoint_datamodule(ckpt)
    if spec is None:
        return None
    names = getattr(instantiate(spec), "class_names", None)
    return None if names is None else list(names)


def arithmetic(args: argparse.Namespace) -> tuple[Path, Path, str | None]:
    from lit_gan.arithmetic.figure import save_arithmetic_figure
    from lit_gan.arithmetic.run import resolve_label, run_arithmetic, save_npz, verdict

    out = Path(args.out)
    npz = Path(args.npz) if args.npz else out.with_suffix(".npz")
    if out.suffix.lower() != ".png":
        raise CommandError(f"--out {out}: give a file name ending in .png")
    if npz.suffix.lower() != ".npz":
        raise CommandError(f"--npz {npz}: give a file name ending in .npz")
    existing = [str(p) for p in (out, npz) if p.exists()]
    if existing and not args.overwrite:
        raise CommandError(f"{' and '.join(existing)} already exist(s); choose another --out or pass --overwrite")
    device = resolve_device(args.device)
    model = load_model(args.ckpt, device)
    label = resolve_label(model, args.label, class_names_of(args.ckpt) if getattr(model, "num_classes", None) else None)
    extractor = None
    if args.feature_extractor:
        from lit_gan.metrics.extractors import load_extractor

        extractor = load_extractor(args.feature_extractor, device)
    result = run_arithmetic(model, args.expr, args.seed, args.search, args.per_group, extractor, label,
                            args.noise_scale, args.batch_size, not args.no_progress)
    save_arithmetic_figure(result, out)
    save_npz(result, npz)
    return out, npz, verdict(result, extractor.meta) if extractor is not None else None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan arithmetic", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="checkpoint of a noise-to-image model written by `fit`")
    p.add_argument("--expr", required=True, help='e.g. "3,17,42 - 5,9,11 + 8,21,30" or "sandal - sneaker + ankle boot"')
    p.add_argument("--out", required=True, help="FIG.png (the .npz goes next to it unless --npz)")
    p.add_argument("--npz", default=None, help="where the arrays go (default: --out with .npz)")
    p.add_argument("--seed", type=int, default=0, help="noise seed, as `generate --seed` (default 0)")
    p.add_argument("--feature-extractor", default=None,
                   help="classifier (.pt2 / .pt) that chooses groups given by class or attribute names")
    p.add_argument("--search", type=int, default=2000,
                   help="the pool: samples 0..N-1 of the seed; named groups are chosen from it, "
                        "indices must be below it (default 2000)")
    p.add_argument("--per-group", type=int, default=PAPER_PER_GROUP,
                   help=f"samples per named group (default {PAPER_PER_GROUP}, the paper's)")
    p.add_argument("--label", default=None, help="class-conditional models: the class (index or name) all "
                   "vectors are decoded at (required for them, refused otherwise)")
    p.add_argument("--noise-scale", type=float, default=PAPER_NOISE_SCALE,
                   help=f"the 8 neighbours add U(-s, s) noise to the result (default {PAPER_NOISE_SCALE}, Fig. 7)")
    p.add_argument("--batch-size", type=int, default=256, help="samples per generator pass while searching")
    add_output_options(p, "replace an existing FIG.png / FIG.npz")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        out, npz, seen = arithmetic(args)
    except (UserError, FeatureModuleError, ValueError) as err:  # ValueError: an extractor refusing these images
        print(f"error: {err}", file=sys.stderr)
        return 2
    if seen:
        print(seen, file=sys.stderr)
    print(f"wrote {out} and {npz}", file=sys.stderr)
    return 0
