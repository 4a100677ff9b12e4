"""``python -m lit_gan evaluate``: any metric of the registry (FID, KID, IS, class coverage,
accuracy, intra-FID, precision / recall / density / coverage, Parzen, modes, paired) of a
checkpoint or of a samples file, with the protocol that produced them.

    python -m lit_gan evaluate --ckpt runs/x/version_0/checkpoints/last.ckpt --num 10000 \\
        --metrics fid,kid,classes --feature-extractor extractors/fashion_mnist_classifier.pt2
    python -m lit_gan evaluate --samples samples.npz --config experiments/radford2015/dcgan_mnist.yaml \\
        --data.init_args.root=/data/mnist --devices 2

Real images come from the datamodule saved in the checkpoint, or from ``--config`` (a
``fit`` config; only its ``data`` section is read), with the same ``--data.*`` overrides
as ``fit``. The last line of stdout is one JSON object: {"metrics": ..., "protocol": ...};
progress and logs go to stderr. ``--devices K`` splits the work over K processes (CPU with
gloo, or K GPUs) and gives the same numbers as one process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from jsonargparse import ArgumentParser
from lightning import LightningDataModule

from lit_gan import distributed
from lit_gan.atomic import atomic_path
from lit_gan.evaluation import timing
from lit_gan.evaluation.averaged import USE_EMA_HELP, choose_generator
from lit_gan.evaluation.checkpoints import CommandError, checkpoint_datamodule, load_model, read_state
from lit_gan.evaluation.features import Protocol
from lit_gan.evaluation.modes import MIN_COUNT
from lit_gan.evaluation.real import real_images
from lit_gan.evaluation.paired import refusal as paired_refusal
from lit_gan.evaluation.registry import ALL_METRICS, FEATURE_METRICS, FeatureContext, build
from lit_gan.evaluation.run import evaluate as evaluate_source
from lit_gan.evaluation.sources import FileSource, model_source
from lit_gan.evaluation.translation import translation_classes
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.feature_module import FeatureModuleError
from lit_gan.metrics.inception import InceptionWeightsMissing
from lit_gan.metrics.reference_cache import ReferenceCache


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m lit_gan evaluate", description=__doc__.split("\n\n")[0], env_prefix="LIT_GAN")
    p.add_argument("--ckpt", type=str | None, default=None, help="checkpoint to sample from (see --num, --seed)")
    p.add_argument("--samples", type=str | None, default=None,
                   help="FILE.npz written by `generate` (uint8 N x H x W x C; Parzen uses samples_float when present)")
    p.add_argument("--num", type=int, default=10_000, help="samples to generate with --ckpt")
    p.add_argument("--metrics", type=str, default="fid,kid", help=f"comma-separated: {', '.join(ALL_METRICS)}")
    p.add_argument("--min-count", type=int, default=MIN_COUNT, help="modes: high-quality samples a mode needs")
    p.add_argument("--feature-extractor", type=str, default="inception", help="inception, or a .pt / .pt2 feature module")
    p.add_argument("--inception-weights", type=str | None, default=None, help="Inception weights file, if not in $TORCH_HOME/hub/checkpoints/")
    p.add_argument("--direction", type=str | None, default=None, help="image-to-image checkpoints: AtoB or BtoA (default: the model's)")
    p.add_argument("--split", type=str, default="test", help="real images: test, val or train")
    p.add_argument("--domain", type=str | None, default=None, help="unpaired data (--samples / generators): real images of domain A or B")
    p.add_argument("--num-real", type=int | None, default=None, help="first N real images of the split (default: all)")
    p.add_argument("--seed", type=int, default=0, help="noise seed for --ckpt, and KID / IS subsets")
    p.add_argument("--use-ema", type=bool | None, default=None, help=USE_EMA_HELP)
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--kid-subset-size", type=int, default=1000, help="shrunk to the smaller set when larger")
    p.add_argument("--devices", type=int, default=1, help="processes (GPUs, or CPU processes with gloo)")
    p.add_argument("--accelerator", type=str, default="auto", help="auto, cpu or gpu")
    p.add_argument("--cache-dir", type=str | None, default=None, help="real-feature cache (default ~/.cache/lit_gan/reference)")
    p.add_argument("--out", type=str | None, default=None, help="also write the JSON result to this file")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--config", type=str | None, default=None, help="a `fit` config; its `data` section supplies the real images")
    p.add_subclass_arguments(LightningDataModule, "data", required=False, fail_untyped=False)
    return p


def parse(argv: list[str]) -> tuple[Any, LightningDataModule]:
    import argparse

    # --ckpt / --config decide the defaults of --data, so read them first
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--ckpt")
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    parser = build_parser()
    data_default = None
    if known.config is not None:
        if not Path(known.config).is_file():
            raise CommandError(f"--config {known.config}: no such file")
        data_default = (yaml.safe_load(Path(known.config).read_text()) or {}).get("data")
        if data_default is None:
            raise CommandError(f"{known.config} has no `data` section")
    elif known.ckpt is not None and Path(known.ckpt).is_file():
        data_default = checkpoint_datamodule(known.ckpt)
    if data_default is not None:  # --data.* on the command line override it
        parser.set_defaults(data=data_default)
    args = parser.parse_args(argv)
    if (args.ckpt is None) == (args.samples is None):
        raise CommandError("give exactly one of --ckpt CKPT (generate samples) or --samples FILE.npz")
    if args.ckpt is not None and not Path(args.ckpt).is_file():
        raise CommandError(f"checkpoint not found: {args.ckpt}")
    if args.data is None:
        raise CommandError("no real data to compare with: give --config FIT_CONFIG.yaml (its `data` section) or "
                           "--data.class_path / --data.init_args.* as for `fit`")
    return args, parser.instantiate(args).data


def run(fabric, args, datamodule: LightningDataModule, metrics: list[str] | None = None) -> dict[str, Any]:
    """One rank's part (of ``metrics``, default all asked for); every rank returns the same result."""
    metrics = metrics if metrics is not None else metric_names(args)
    samples = args.samples is not None
    protocol = Protocol(metrics, args.num if not samples else 2, args.num_real, args.split, args.seed,
                        args.batch_size, args.kid_subsets, args.kid_subset_size)
    with timing.recording():  # the card's seconds include loading the model and the extractor
        with timing.section("load"):
            model = None if samples else load_model(args.ckpt, str(fabric.device))
            generator = None if samples else choose_generator(model, args.use_ema, args.ckpt)
        with timing.section("real_images"):  # a translation source reads its targets
            source = FileSource(args.samples) if samples else model_source(model, datamodule, protocol, args.ckpt,
                                                                             args.direction)
        extractor = None
        if set(metrics) & set(FEATURE_METRICS):
            with timing.section("load"):
                extractor = load_extractor(args.feature_extractor, fabric.device, args.inception_weights)
        protocol = dataclasses.replace(protocol, num_samples=source.num)  # validated again: >= 2 samples
        values, card = evaluate_source(source, datamodule, protocol, extractor, ReferenceCache(args.cache_dir),
                                       progress=not args.no_progress and fabric.global_rank == 0, domain=args.domain,
                                       min_count=args.min_count, device=fabric.device)
    if generator is not None:
        card["generator"] = generator  # which weights were sampled: the EMA of G (with its settings) or G
    return {"metrics": values, "protocol": card}


def metric_names(args) -> list[str]:
    return [m.strip() for m in args.metrics.split(",") if m.strip()]


def run_and_close(fabric, args, datamodule: LightningDataModule, metrics: list[str]) -> dict[str, Any]:
    """`run`, then tear the process group down on every rank once all ranks are done: a spawned
    worker that exits with gloo's threads still alive aborts ("terminate called without an
    active exception") and takes the whole command down with it."""
    result = run(fabric, args, datamodule, metrics)
    distributed.close()
    return result


def evaluate(argv: list[str]) -> dict[str, Any]:
    from lightning.fabric import Fabric

    args, datamodule = parse(argv)
    if args.devices < 1:
        raise CommandError(f"--devices must be >= 1, got {args.devices}")
    metrics = metric_names(args)
    if args.devices > 1:
        preflight(args, datamodule)
    with launcher_variables_kept():
        fabric = Fabric(accelerator=args.accelerator, devices=args.devices,
                        strategy="ddp_spawn" if args.devices > 1 else "auto")
        result = fabric.launch(run_and_close, args, datamodule, metrics)
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(json.dumps(result, indent=2))
    return result


@contextmanager
def launcher_variables_kept():
    """ddp_spawn sets MASTER_ADDR / MASTER_PORT in this process: put them back after, or a later
    K-process run here (a test, a script calling `evaluate`) inherits a stale rendezvous and hangs."""
    names = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK", "LOCAL_WORLD_SIZE")
    before = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def preflight(args, datamodule: LightningDataModule) -> None:
    """Catch the usual mistakes in this process, where they print as one clear line
    (inside spawned workers they would surface as a traceback per rank)."""
    metrics = metric_names(args)
    Protocol(metrics, max(args.num, 2), args.num_real, args.split)  # validates names and counts
    label_classes = FileSource(args.samples).label_classes if args.samples else checkpoint_classes(args.ckpt)
    if "paired" in metrics and (problem := paired_refusal(None if args.samples else checkpoint_model_class(args.ckpt))):
        raise CommandError(problem)
    features = [m for m in metrics if m in FEATURE_METRICS]
    if features:
        datamodule.prepare_data()
        if label_classes is None and args.ckpt and (known := translation_classes(datamodule)):
            label_classes = len(known["class_names"])  # translations' target classes, from the data
        extractor = load_extractor(args.feature_extractor, "cpu", args.inception_weights)
        classes = extractor.num_classes if extractor.class_names else None
        build(features, FeatureContext(1, classes, 2, 2, label_classes=label_classes,
                                       multilabel=bool(extractor.meta.get("multilabel"))))  # accuracy / intra_fid needs
        real_images(datamodule, args.split, args.num_real, domain=args.domain)


def checkpoint_model_class(ckpt: str) -> type | None:
    """The model class a checkpoint names (None when this lit_gan has none such)."""
    import importlib

    module, _, name = ((read_state(ckpt).get("lit_gan") or {}).get("model_class") or "").rpartition(".")
    try:
        return getattr(importlib.import_module(module), name) if module else None
    except (ImportError, AttributeError):
        return None


def checkpoint_classes(ckpt: str) -> int | None:
    """The class count of a conditional checkpoint (its hyperparameters), else None."""
    hparams = read_state(ckpt).get("hyper_parameters") or {}
    return hparams.get("num_classes")


def main(argv: list[str]) -> int:
    try:
        result = evaluate(argv)
    except (CommandError, InceptionWeightsMissing, FeatureModuleError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0
