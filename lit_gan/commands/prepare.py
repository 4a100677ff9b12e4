"""``python -m lit_gan prepare``: build an image-to-image dataset derived from MNIST / Fashion-MNIST.

    python -m lit_gan prepare edges2fashion --root data --also-look-in /usr/share/datasets/fashion-mnist
    python -m lit_gan prepare fashion_mnist_5to7 --root data
    python -m lit_gan prepare --list

Writes ``ROOT/NAME/`` in the layout PairedImageDataModule (edges2*) or UnpairedImageDataModule
(class pairs) reads; the datamodules do the same in ``prepare_data`` when their ``dataset`` is such
a name, so this command is only needed to build ahead of time (e.g. once before a sweep). A
dataset already built from the same source files is reused. The source's four IDX files are
searched in ``ROOT/FashionMNIST/raw`` (``ROOT/MNIST/raw``), ``ROOT``, then each ``--also-look-in``.
See lit_gan.data.derived for the layouts and how edges are drawn.
"""

from __future__ import annotations

import argparse
import sys

from lit_gan.data.derived import describe, names_help, prepare_derived


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan prepare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", help=f"the dataset: {names_help()}")
    p.add_argument("--root", default="data", help="folder to build NAME/ in (the datamodules' root; default: data)")
    p.add_argument("--also-look-in", action="extend", nargs="+", default=[], metavar="DIR",
                   help="more folders holding the source IDX files, e.g. /usr/share/datasets/fashion-mnist")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--list", action="store_true", help="print the known names and the class-pair pattern, then exit")
    return p


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(describe()))
        return 0
    if args.name is None:
        parser.error(f"name a dataset ({names_help()}) or pass --list")
    try:
        done = prepare_derived(args.name, args.root, args.also_look_in, progress=not args.no_progress)
    except (ValueError, OSError) as err:  # bad name or class pair, missing or damaged source, a folder in the way
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.name}: {done.images} images in {done.folder} ({'built' if done.built else 'cached'})",
          file=sys.stderr)
    return 0
